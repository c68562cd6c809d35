"""Obsidian notes translated into kb's Markdown.

Wikilinks (`[[note]]`, `[[note#heading]]`, `[[note|label]]`) are kb's own syntax already, and
image embeds (`![[x.png|300]]`) are handled with the rest of the media. What is translated
here: `%%comments%%` (private, so they leave), callouts (to kb's GitHub-style alerts), note
embeds (`![[note]]`, which kb shows as a link), `==highlights==`, block references and links
to other notes written as Markdown links.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from notes.importing.media import MEDIA_EXTENSIONS
from notes.importing.translation import (
    Translation,
    blank,
    extract_updates,
    iframes_to_links,
    substitute,
)

_COMMENT = re.compile(r"%%.*?%%", re.DOTALL)
_CALLOUT = re.compile(r"^((?:>[ \t]?)+)\[!([\w-]+)\]([+-]?)[ \t]*(.*)$", re.MULTILINE)
_NOTE_EMBED = re.compile(r"!\[\[([^\[\]\n|#^]+)((?:#[^\[\]\n|]*)?)(?:\|([^\[\]\n]*))?\]\]")
_BLOCK_REFERENCE = re.compile(r"\[\[([^\[\]\n|#]*)#\^[\w-]+((?:\|[^\[\]\n]*)?)\]\]")
_BLOCK_ID = re.compile(r"[ \t]\^[\w-]{1,40}[ \t]*$", re.MULTILINE)
_HIGHLIGHT = re.compile(r"(?<![=\w])==(?=\S)([^=\n]+?)(?<=\S)==(?![=\w])")
_NOTE_LINK = re.compile(r"(?<!!)\[([^\[\]\n|]+)\]\((?!\w+:|/|#)([^()\s]+?\.md)(#[^()\s]*)?\)")

# Obsidian's callout kinds, as the five kinds GitHub (and kb) draw.
CALLOUT_KINDS = {
    "NOTE": ("note", "info", "todo", "abstract", "summary", "tldr", "quote", "cite", "example"),
    "TIP": ("tip", "hint", "success", "check", "done", "question", "help", "faq"),
    "IMPORTANT": ("important",),
    "WARNING": ("warning", "attention"),
    "CAUTION": ("caution", "danger", "error", "failure", "fail", "missing", "bug"),
}
_KIND = {alias: kind for kind, aliases in CALLOUT_KINDS.items() for alias in aliases}


def translate(body: str, translation: Translation) -> str:
    body = _comments(body, translation)
    body = extract_updates(body, translation)
    body = iframes_to_links(body, translation)
    body = substitute(body, _CALLOUT, lambda m, line: _callout(m, line, translation))
    body = substitute(body, _NOTE_EMBED, lambda m, line: _embed(m, line, translation))
    body = substitute(
        body, _BLOCK_REFERENCE, lambda m, line: _block_reference(m, line, translation)
    )
    body = substitute(body, _BLOCK_ID, lambda m, line: "")
    body = substitute(body, _HIGHLIGHT, lambda m, line: f"<mark>{m.group(1)}</mark>")
    body = substitute(body, _NOTE_LINK, lambda m, line: _note_link(m, translation))
    return body


def _comments(body: str, translation: Translation) -> str:
    def remove(match: re.Match[str], line: int) -> str:
        translation.counts["comments left out"] += 1
        return blank(match.group(0))

    return substitute(body, _COMMENT, remove)


def _callout(match: re.Match[str], line: int, translation: Translation) -> str:
    quote, kind, _, title = match.groups()
    found = _KIND.get(kind.lower())
    if found is None:
        found = "NOTE"
        translation.note(line, f"callout kind {kind!r} is shown as a note")
    translation.counts["callouts"] += 1
    head = f"{quote}[!{found}]"
    title = title.strip()
    default = kind.lower() in {found.lower(), *CALLOUT_KINDS[found][:1]}
    if title and not (default and title.lower() == kind.lower()):
        return f"{head}\n{quote.rstrip()} **{title}**"
    return head


def _embed(match: re.Match[str], line: int, translation: Translation) -> str:
    target, anchor, label = match.group(1).strip(), match.group(2), match.group(3)
    if any(target.lower().endswith(ext) for ext in MEDIA_EXTENSIONS):
        return match.group(0)  # media embeds are the media module's
    if "." in target.rsplit("/", 1)[-1] and not target.lower().endswith(".md"):
        translation.note(line, f"the embedded file {target!r} is not an image kb accepts")
        return match.group(0)
    translation.note(line, f"the embedded note {target!r} is shown as a link")
    target = target.removesuffix(".md")
    return f"[[{target}{anchor or ''}{'|' + label if label else ''}]]"


def _block_reference(match: re.Match[str], line: int, translation: Translation) -> str:
    translation.note(line, "a link to a block (#^…) now links to the note")
    return f"[[{match.group(1)}{match.group(2)}]]"


def _note_link(match: re.Match[str], translation: Translation) -> str:
    label, path, anchor = match.groups()
    name = unquote(path).rsplit("/", 1)[-1].removesuffix(".md")
    if any(c in label for c in "|[]"):
        return match.group(0)
    translation.counts["links"] += 1
    return f"[[{name}{unquote(anchor or '')}|{label}]]"
