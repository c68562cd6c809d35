"""One Markdown file read into the post it describes: front matter checked, the body translated
from its site's dialect into kb's Markdown, media found."""

from __future__ import annotations

import re
from pathlib import Path

from notes import frontmatter
from notes.bibliography.importing import BibliographyImportError, bibliography_paths
from notes.importing import fields, hugo, jekyll, obsidian
from notes.importing.files import MarkdownFile, first_heading
from notes.importing.media import embed_media
from notes.importing.posts import SLUG_MAX, SUMMARY_MAX, TITLE_MAX, Invalid, PostData
from notes.importing.report import Problem
from notes.importing.sites import FOLDER, HUGO, JEKYLL, OBSIDIAN, Site
from notes.importing.tags import tags
from notes.importing.translation import Translation, note_inert_html, tidy
from notes.models import MAX_BODY_CHARS
from notes.models.aliases import MAX_ALIASES, alias_list, alias_problem
from notes.rendering import MAX_SQUARE_BRACKETS, render_markdown
from notes.slugs import slug_base

_SLUG = re.compile(r"^[-\w]+$")
# Front-matter keys each tool uses for its own pages (layouts, menus, comments...): nothing a
# post in kb keeps, so they are left out without a note.
_TOOL_KEYS = frozenset(
    {
        *("layout", "permalink", "comments", "sitemap", "share", "toc", "toc_sticky"),
        *("toc_label", "mathjax", "math", "katex", "excerpt_separator", "menu", "weight"),
        *("type", "outputs", "cascade", "build", "markup", "url", "images", "image", "cover"),
        *("featured_image", "keywords", "showToc", "TocOpen", "hidemeta", "ShowReadingTime"),
        *("cssclasses", "cssclass", "publish", "redirect_from", "category", "created"),
    }
)
_KB_KEYS = frozenset(
    {
        *("title", "slug", "date", "lastmod", "updated", "draft", "published", "summary"),
        *("description", "author", "source", "series", "series_order", "tags", "categories"),
        *("aliases", "alias", "see_also", "updates", "feed_entry_id", "reference", "bibliography"),
    }
)


def read_markdown_file(
    source: MarkdownFile,
    media_index: dict[str, list[Path]],
    site: Site | None = None,
) -> PostData:
    """Check one file and say what post it describes. Raises `Invalid` with a line."""
    site = site or Site(kind=FOLDER, root=source.root)
    try:
        doc = frontmatter.parse(frontmatter.decode(source.path.read_bytes()))
    except OSError as exc:
        raise Invalid(f"cannot be read: {exc.strerror}") from exc
    except frontmatter.FrontMatterError as exc:
        raise Invalid(exc.reason, exc.line) from exc
    meta = doc.meta
    name = source.path.parent.name if source.path.stem == "index" else source.path.stem
    dated = jekyll.DATED_NAME.match(name)
    if dated:
        name = dated.group(4)
    translation = Translation(source.label, doc.body_line)
    body, media = embed_media(
        _translate(doc, translation, site),
        source,
        media_index,
        static_roots=site.static_roots,
        translation=translation,
    )
    note_inert_html(body, translation)

    title = fields.text(doc, "title")
    if not title:
        heading, rest = first_heading(body)
        # Obsidian shows a note under its file name; only an opening `# Title` says otherwise.
        if site.kind != OBSIDIAN or rest != body:
            title, body = heading, rest
        title = title or name
    title = " ".join(title.split())
    if len(title) > TITLE_MAX:
        raise Invalid(f"the title is longer than {TITLE_MAX} characters", doc.line_of("title"))

    slug = fields.text(doc, "slug")
    if slug is None:
        slug = slug_base(name, SLUG_MAX)
    elif not _SLUG.match(slug) or len(slug) > SLUG_MAX:
        raise Invalid(
            f"the slug {slug!r} must be letters, digits and hyphens, at most {SLUG_MAX}",
            doc.line_of("slug"),
        )

    data = PostData(path=source.label, title=title, slug=slug, body=body, name=name, media=media)
    data.draft = fields.draft(doc) or source.draft
    if "date" in meta:
        data.published_at = fields.moment(doc, "date")
    elif site.kind == OBSIDIAN and "created" in meta:
        data.published_at = fields.moment(doc, "created")
    elif dated:
        data.published_at = fields.parse_moment("-".join(dated.groups()[:3]))
    for key in ("lastmod", "updated"):
        if key in meta:
            data.updated_at = fields.moment(doc, key)
            break
    data.summary = fields.text(doc, "summary") or fields.text(doc, "description") or ""
    data.summary = data.summary.strip()
    if len(data.summary) > SUMMARY_MAX:
        key = "summary" if "summary" in meta else "description"
        raise Invalid(f"the {key} is longer than {SUMMARY_MAX} characters", doc.line_of(key))
    if not data.summary and translation.excerpt:
        data.summary = render_markdown(translation.excerpt).summary[:SUMMARY_MAX]
    data.author = fields.text(doc, "author")
    if data.author is None and site.kind == JEKYLL and isinstance(site.config.get("author"), str):
        data.author = site.config["author"].strip() or None  # the site's one author
    data.source_url = fields.url(doc, "source") or ""
    data.reference = fields.text(doc, "reference") or ""
    if "bibliography" in meta:
        try:
            data.bibliography = bibliography_paths(source.path, meta["bibliography"], site.root)
        except BibliographyImportError as error:
            raise Invalid(error.problems[0].message, doc.line_of("bibliography")) from error
    data.series, data.series_order = fields.series(doc)
    data.tags = tags(doc, body, spaces=site.kind == JEKYLL, inline=site.kind in {OBSIDIAN, FOLDER})
    if site.kind != HUGO:  # Hugo's aliases are old addresses, not other names
        data.aliases = _aliases(doc, source, translation)
    data.see_also = fields.see_also(doc)
    data.updates = fields.updates(doc)
    if translation.updates:
        data.updates = sorted(set((data.updates or []) + translation.updates))
    data.feed_entry_id = fields.text(doc, "feed_entry_id") or ""
    if len(body) > MAX_BODY_CHARS:
        raise Invalid(f"the body is longer than {MAX_BODY_CHARS:,} characters")
    if body.count("[") > MAX_SQUARE_BRACKETS:
        raise Invalid(f"the body has more than {MAX_SQUARE_BRACKETS:,} '[' characters")
    if site.kind != FOLDER:
        # Translators keep lines in place, for their notes; the gaps close once all are made.
        body = tidy(body)
    data.body = body
    data.redirects = _old_addresses(doc, source, site, data)
    if site.kind != FOLDER:
        for key in meta:
            if key not in _KB_KEYS and key not in _TOOL_KEYS:
                reason = f"front-matter key {key!r} has no place in kb; left out"
                translation.notes.append(Problem(source.label, reason, doc.line_of(key)))
    data.translation = translation
    return data


def _aliases(
    doc: frontmatter.Document, source: MarkdownFile, translation: Translation
) -> list[str]:
    """The other names a note goes by (Obsidian's `aliases:`, or its older `alias:`), less
    those kb cannot keep, each noted."""
    key = "aliases" if "aliases" in doc.meta else "alias"
    kept = []
    for alias in alias_list("\n".join(fields.strings(doc, key))):
        problem = alias_problem(alias) or (
            f"more than {MAX_ALIASES} aliases" if len(kept) == MAX_ALIASES else ""
        )
        if problem:
            reason = f"alias {alias[:60]!r} left out: {problem}"
            translation.notes.append(Problem(source.label, reason, doc.line_of(key)))
        else:
            kept.append(alias)
    return kept


def _translate(doc: frontmatter.Document, translation: Translation, site: Site) -> str:
    if site.kind == JEKYLL:
        separator = str(
            doc.meta.get("excerpt_separator") or site.config.get("excerpt_separator") or ""
        )
        return jekyll.translate(doc.body, translation, baseurl=site.base_path, separator=separator)
    if site.kind == HUGO:
        return hugo.translate(doc.body, translation)
    if site.kind == OBSIDIAN:
        return obsidian.translate(doc.body, translation)
    return doc.body


def _old_addresses(
    doc: frontmatter.Document, source: MarkdownFile, site: Site, data: PostData
) -> list[str]:
    """Where the source's generator published the post, so the old address can redirect."""
    found: list[str] = []
    if site.kind == JEKYLL:
        pattern = str(doc.meta.get("permalink") or site.config.get("permalink") or "date")
        categories = doc.meta.get("categories") or doc.meta.get("category") or []
        if isinstance(categories, str):
            categories = categories.split()
        path = jekyll.permalink_path(
            pattern,
            name=data.name,
            date=data.published_at,
            categories=[str(c) for c in categories if isinstance(c, str | int)],
            baseurl=site.base_path,
        )
        found += [path] if path else []
        found += fields.strings(doc, "redirect_from")
    elif site.kind == HUGO:
        url = fields.text(doc, "url")
        if url:
            found.append(site.base_path + "/" + url.strip("/") + "/")
        else:
            relative = source.path.relative_to(site.root / "content")
            parts = list(relative.parts[:-1])
            if source.path.stem != "index":
                parts.append(fields.text(doc, "slug") or source.path.stem)
            found.append(site.base_path + "/" + "/".join(parts) + "/")
        found += [
            alias if alias.startswith("/") else f"{site.base_path}/{alias}"
            for alias in fields.strings(doc, "aliases")
        ]
    return found
