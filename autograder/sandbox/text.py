"""Student text made safe to show, once, where it enters the grader (issue 13, points 7-8).

Everything a child sends back as text (exception messages, places, traces, warnings,
strings in returned values) and everything it printed is untrusted: a lone surrogate
(``'\\ud800'``) cannot be encoded as UTF-8, so it would abort writing the HTML report, the
JSON or a strict terminal; an escape sequence (clear screen, a cursor move, an OSC 52
clipboard write, a carriage return that overwrites a score row) would act on the
instructor's terminal. :func:`clean` replaces lone surrogates with U+FFFD and shows every
other control character visibly (``\\x1b``, ``\\r``), keeping newlines and tabs; the bidi
overrides that reorder what a reader sees are shown the same way. The grader's
:class:`~dlgrade.sandbox.runner.Session` applies it to each reply and to the captured
output, so nothing after it ever sees raw student text.
"""

from __future__ import annotations

import re
from typing import Any

#: C0 controls but tab and newline, DEL, C1 controls, bidi embeddings, overrides and
#: isolates, and surrogates (which a decoded reply can hold only unpaired).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\r": "\\r", "\b": "\\b", "\f": "\\f", "\v": "\\v"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if "\ud800" <= char <= "\udfff":
        return "\ufffd"
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def clean(text: str) -> str:
    """``text`` with lone surrogates as U+FFFD and other control characters shown as
    escapes (``'\\x1b[2J'`` becomes the six characters ``\\x1b[2J``)."""
    return text if _UNSAFE.search(text) is None else _UNSAFE.sub(_visible, text)


def clean_tree(value: Any) -> Any:
    """Every string (dict keys too) of a decoded JSON tree through :func:`clean`."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(str(k)): clean_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_tree(v) for v in value]
    return value


def plain(raw: bytes) -> bool:
    """Whether JSON text ``raw`` certainly holds no character :func:`clean` changes: ASCII
    with no escape and no DEL (JSON must escape every other control character). Most
    replies are, and skip the walk of :func:`clean_tree`."""
    return raw.isascii() and b"\\" not in raw and b"\x7f" not in raw
