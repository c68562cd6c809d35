"""A post's aliases: other names its wikilinks may use (Obsidian's `aliases:`), kept as one
text field, one a line."""

from __future__ import annotations

MAX_ALIASES = 20
MAX_ALIAS_CHARS = 200  # as long as a title

# A wikilink ends at "]", "|" or "#", so a name holding one could never be linked to.
_UNLINKABLE = set("[]|#")


def alias_list(text: str) -> list[str]:
    """Aliases as kb keeps them: one a line (not split at commas, which a name may hold),
    trimmed, blank and repeated ones (ignoring case) dropped."""
    found: dict[str, str] = {}
    for raw in text.splitlines():
        alias = " ".join(raw.split())
        if alias:
            found.setdefault(alias.lower(), alias)
    return list(found.values())


def alias_problem(text: str) -> str:
    """What is wrong with these aliases, in words for the author; "" if nothing."""
    aliases = alias_list(text)
    if len(aliases) > MAX_ALIASES:
        return f"A post has at most {MAX_ALIASES} aliases; this one has {len(aliases)}."
    for alias in aliases:
        if len(alias) > MAX_ALIAS_CHARS:
            return f"“{alias[:40]}…” is longer than {MAX_ALIAS_CHARS} characters."
        if set(alias) & _UNLINKABLE:
            return f"“{alias}” holds one of [ ] | #, which a wikilink cannot name."
    return ""
