"""Markdown files with YAML front matter, as Hugo, Jekyll, Obsidian and Quartz write them, or
Hugo's TOML (`+++`) front matter."""

from __future__ import annotations

import datetime
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

FENCE = "---"
TOML_FENCE = "+++"
# A value built from more nodes than this is refused: YAML aliases let a few lines expand into
# billions of values (the "billion laughs"), which every later walk over them would pay for.
MAX_FRONT_MATTER_NODES = 20_000
_TOML_KEY = re.compile(r"""^\s*["']?([A-Za-z0-9_-]+)["']?\s*=""")


class FrontMatterError(ValueError):
    """A file's front matter can't be read; `line` is 1-based within the file."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message if line is None else f"line {line}: {message}")
        self.reason = message
        self.line = line


@dataclass(frozen=True)
class Document:
    meta: dict[str, Any]
    body: str
    # The 1-based line of each top-level key, so a bad value can be reported where it is.
    key_lines: dict[str, int] = field(default_factory=dict)
    # Each top-level scalar as written: YAML reads `title: No` as False and `title: 1.10` as
    # 1.1, and a title must come back the way the author typed it.
    scalars: dict[str, str] = field(default_factory=dict)
    # The 1-based line of the file where the body starts, so notes on the body name file lines.
    body_line: int = 1

    def line_of(self, key: str) -> int | None:
        return self.key_lines.get(key)

    def text(self, key: str) -> str | None:
        """A top-level value as text, or None when it is absent, null or not a scalar."""
        value = self.meta.get(key)
        if value is None or isinstance(value, list | dict):
            return None
        return value if isinstance(value, str) else self.scalars.get(key, str(value))


# libyaml's parser when PyYAML was built with it: five times faster, which a 10,000-file
# import feels. The loading rules are the same safe ones either way.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc, valid-type]
    """Safe YAML that leaves dates as text: kb parses them itself, so a bad date is reported with
    its line instead of escaping as a ValueError, and time zones are handled in one place."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_datetime(dumper: yaml.SafeDumper, value: datetime.datetime) -> yaml.Node:
    # ISO 8601 with a "T", as Hugo and Jekyll write it, rather than PyYAML's space.
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", value.isoformat())


def _represent_list(dumper: yaml.SafeDumper, value: list) -> yaml.Node:
    # `tags: [a, b]` on one line, as people write them; lists of mappings stay in blocks.
    flat = all(not isinstance(item, list | dict) for item in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flat)


_Dumper.add_representer(datetime.datetime, _represent_datetime)
_Dumper.add_representer(list, _represent_list)


def decode(data: bytes) -> str:
    """The text of a file's bytes, which must be UTF-8 (a byte-order mark is allowed)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FrontMatterError("the file is not UTF-8 text", line) from exc


def parse(text: str) -> Document:
    """Split `text` into its front matter (a mapping) and its Markdown body."""
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise FrontMatterError("the file contains a NUL byte", line)
    text = text.removeprefix("\ufeff")
    lines = text.splitlines(keepends=True)
    if lines and lines[0].strip() == TOML_FENCE:
        return _parse_toml(lines)
    if not lines or lines[0].strip() != FENCE:
        return Document(meta={}, body=text)
    end = next((i for i, line in enumerate(lines) if i and line.strip() in {FENCE, "..."}), None)
    if end is None:
        raise FrontMatterError("the front matter that opens on line 1 is never closed by '---'", 1)
    loader = _Loader("".join(lines[1:end]))
    try:
        node = loader.get_single_node()
        if node is not None and _expanded_size(node) > MAX_FRONT_MATTER_NODES:
            raise FrontMatterError(
                f"the front matter expands to more than {MAX_FRONT_MATTER_NODES:,} values "
                "(YAML aliases nested in each other)",
                2,
            )
        meta = loader.construct_document(node) if node is not None else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 2 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise FrontMatterError(f"invalid YAML: {problem}", line) from exc
    finally:
        loader.dispose()
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise FrontMatterError("the front matter must be a mapping of keys to values", 2)
    key_lines: dict[str, int] = {}
    scalars: dict[str, str] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_lines.setdefault(str(key_node.value), key_node.start_mark.line + 2)
            if isinstance(value_node, yaml.ScalarNode):
                scalars[str(key_node.value)] = value_node.value
    return _document(meta, lines, end, key_lines, scalars)


def _document(
    meta: dict, lines: list[str], end: int, key_lines: dict[str, int], scalars: dict[str, str]
) -> Document:
    rest = "".join(lines[end + 1 :])
    body = rest.lstrip("\n")
    return Document(
        meta={str(k): v for k, v in meta.items()},
        body=body,
        key_lines=key_lines,
        scalars=scalars,
        body_line=end + 2 + rest.count("\n", 0, len(rest) - len(body)),
    )


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes the document has once every alias is expanded, counted without expanding
    (each node's size is computed once), and stopping as soon as the limit is passed."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if not children_done and id(node) in visiting:
            return MAX_FRONT_MATTER_NODES + 1  # an alias inside itself expands forever
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = (
            [part for pair in node.value for part in pair]
            if isinstance(node, yaml.MappingNode)
            else list(node.value)
        )
        if children_done:
            total = 1 + sum(sizes[id(child)] for child in children)
            sizes[id(node)] = total
            if total > MAX_FRONT_MATTER_NODES:
                return total
        else:
            visiting.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
    return sizes[id(root)]


def _parse_toml(lines: list[str]) -> Document:
    end = next((i for i, line in enumerate(lines) if i and line.strip() == TOML_FENCE), None)
    if end is None:
        raise FrontMatterError("the front matter that opens on line 1 is never closed by '+++'", 1)
    try:
        meta = tomllib.loads("".join(lines[1:end]))
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        line = int(found.group(1)) + 1 if found else None
        raise FrontMatterError(f"invalid TOML: {str(exc).split(' (at')[0]}", line) from exc
    key_lines: dict[str, int] = {}
    for number, line in enumerate(lines[1:end], start=2):
        key = _TOML_KEY.match(line)
        if key and not line.lstrip().startswith("["):
            key_lines.setdefault(key.group(1), number)
    # TOML's dates are values of their own; as text they read back the way they were written.
    scalars = {
        key: value.isoformat()
        for key, value in meta.items()
        if isinstance(value, datetime.date | datetime.time)
    }
    return _document(meta, lines, end, key_lines, scalars)


def dump(meta: Mapping[str, Any], body: str) -> str:
    """A Markdown file: `meta` as YAML front matter in the given key order, then `body` as is.

    The same input always gives the same bytes, which is what makes exports comparable.
    """
    front = yaml.dump(
        dict(meta),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=math.inf,
    )
    return f"{FENCE}\n{front}{FENCE}\n{body}"
