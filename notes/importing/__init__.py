"""Bringing notes in: sites and folders of Markdown (Jekyll, Hugo, Obsidian, plain), and RSS or
Atom feeds.

Every import reads and checks all of its input first and writes nothing until that pass is
over, so by default one bad file leaves the database as it was. Posts are then written inside
one transaction: changed ones through `services.save_post`, the same path as the admin, new ones
in bulk (`bulk`) with the same outcome in a few queries a batch.

The parts: `sites` finds the files and runs an import; `reading` turns one file into a
`PostData` (`fields`, `tags`, `media` and `files` hold what every dialect shares); `batch`
checks the files together; `writing` saves; `feeds` reads feeds; `report` is what comes back.
"""

from notes.importing.feeds import fetch_feed, html_to_paragraphs, import_feed, read_feed
from notes.importing.markdown import import_markdown
from notes.importing.media import BIBLIOGRAPHY_FILE, EXPORT_MEDIA_DIR, MEDIA_EXTENSIONS
from notes.importing.report import ImportReport, InvalidImport, Problem, Progress

__all__ = [
    "BIBLIOGRAPHY_FILE",
    "EXPORT_MEDIA_DIR",
    "MEDIA_EXTENSIONS",
    "ImportReport",
    "InvalidImport",
    "Problem",
    "Progress",
    "fetch_feed",
    "html_to_paragraphs",
    "import_feed",
    "import_markdown",
    "read_feed",
]
