"""Recognising what a folder is (a Jekyll site, a Hugo site, an Obsidian vault or a plain folder
of Markdown) and which of its files are posts."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notes import frontmatter
from notes.importing.files import MarkdownFile
from notes.importing.report import Problem

JEKYLL, HUGO, OBSIDIAN, FOLDER = "jekyll", "hugo", "obsidian", "folder"
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
_HUGO_CONFIGS = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml")
_HUGO_CONFIGS += ("config.yml", "config.json", "config/_default/hugo.toml")
_HUGO_CONFIGS += ("config/_default/config.toml", "config/_default/hugo.yaml")
_NOT_POSTS = frozenset({"readme", "license", "changelog", "contributing", "_index"})
MAX_CONFIG_BYTES = 1024 * 1024


@dataclass
class Site:
    kind: str
    root: Path
    config: dict[str, Any] = field(default_factory=dict)
    files: list[MarkdownFile] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    # Where a path written from `/` (an asset, a static file) is looked up.
    static_roots: list[Path] = field(default_factory=list)

    @property
    def base_path(self) -> str:
        """The path the site was served under (Jekyll's `baseurl`, the path of Hugo's
        `baseURL`), without a trailing slash; "" at the root of its domain."""
        if self.kind == JEKYLL:
            base = str(self.config.get("baseurl") or "")
        elif self.kind == HUGO:
            base = str(self.config.get("baseURL") or self.config.get("baseurl") or "")
            base = "/" + base.split("://", 1)[-1].partition("/")[2] if "://" in base else base
        else:
            return ""
        return "/" + base.strip("/") if base.strip("/") else ""


def recognise(root: Path) -> Site:
    """What `root` is, with its posts found. Config files that can't be read are noted and the
    site is read with defaults."""
    site = Site(kind=FOLDER, root=root)
    if (
        _exists(root / "_config.yml")
        or _exists(root / "_config.yaml")
        or (root / "_posts").is_dir()
    ):
        site.kind = JEKYLL
        site.config = _config(root, ("_config.yml", "_config.yaml"), site)
        site.static_roots = [root]
        folders = [("_posts", False), ("_drafts", True)]
        site.files = [f for name, draft in folders for f in _markdown_in(root / name, site, draft)]
    elif (root / "content").is_dir() and any(_exists(root / name) for name in _HUGO_CONFIGS):
        site.kind = HUGO
        site.config = _config(root, _HUGO_CONFIGS, site)
        site.static_roots = [root / "static", root / "assets"]
        site.files = _markdown_in(root / "content", site)
    elif (root / ".obsidian").is_dir():
        site.kind = OBSIDIAN
        site.static_roots = [root]
        site.files = _markdown_in(root, site, skip_names=False)
    else:
        site.files = _markdown_in(root, site, skip_names=False)
    return site


def _exists(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _config(root: Path, names: tuple[str, ...], site: Site) -> dict[str, Any]:
    for name in names:
        path = root / name
        if not _exists(path):
            continue
        try:
            if path.stat().st_size > MAX_CONFIG_BYTES:
                raise ValueError("the file is larger than 1 MB")
            text = frontmatter.decode(path.read_bytes())
            if path.suffix == ".toml":
                value = tomllib.loads(text)
            elif path.suffix == ".json":
                value = json.loads(text)
            else:
                # Through the front-matter reader, so a config gets the same guards.
                value = frontmatter.parse(f"---\n{text}\n---\n").meta
        except (OSError, ValueError, tomllib.TOMLDecodeError) as exc:
            site.skipped.append(Problem(name, f"the site's configuration can't be read: {exc}"))
            return {}
        return value if isinstance(value, dict) else {}
    return {}


def _markdown_in(
    folder: Path, site: Site, draft: bool = False, *, skip_names: bool = True
) -> list[MarkdownFile]:
    """The Markdown files under `folder`, skipping hidden ones (`.obsidian/`, `.git/`), pages
    that are not posts (README, `_index.md`) and files that lead outside the site."""
    if not folder.is_dir():
        return []
    found = []
    root = site.root.resolve()
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in MARKDOWN_SUFFIXES:
            continue
        relative = path.relative_to(site.root)
        label = relative.as_posix()
        if any(part.startswith(".") for part in relative.parts):
            continue
        if skip_names and path.stem.lower() in _NOT_POSTS:
            continue
        if not path.resolve().is_relative_to(root):
            site.skipped.append(Problem(label, "a link to a file outside the imported folder"))
            continue
        if path.is_file():
            found.append(MarkdownFile(path, site.root, label, draft=draft))
    return found
