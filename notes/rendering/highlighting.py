"""Fenced code to highlighted HTML with Pygments, using CSS classes only.

Colours live in static/css/pygments.css, so stored HTML carries no inline
style and one stylesheet can switch between light and dark themes.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

# Longer blocks are shown plain: some lexers backtrack badly on odd input,
# and nobody reads a colourised 50 KB dump.
HIGHLIGHT_MAX_CHARS = 50_000

_LANGUAGE = re.compile(r"[\w+#.-]{1,40}")
_FORMATTER = HtmlFormatter(nowrap=True)


def highlight_code(code: str, info: str) -> str:
    """``<pre class="highlight" data-lang="..."><code>…</code></pre>`` for a fence."""
    language = info.split(maxsplit=1)[0].lower() if info.strip() else ""
    if not _LANGUAGE.fullmatch(language):
        language = ""
    lexer = _lexer(language) if len(code) <= HIGHLIGHT_MAX_CHARS else None
    body = highlight(code, lexer, _FORMATTER) if lexer else html.escape(code)
    data_lang = f' data-lang="{html.escape(language)}"' if language else ""
    return f'<pre class="highlight"{data_lang}><code>{body}</code></pre>\n'


@lru_cache(maxsize=128)
def _lexer(language: str) -> Lexer | None:
    if not language:
        return None
    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None
