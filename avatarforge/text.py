"""The one normalizer for user-visible names: display names, room titles, API token names, guest
names, conversation titles, avatar, actor and character names.

A name is shown to other people, in lists, titles and file names, so it must look like what it
is: bidi embeddings/overrides/isolates (U+202A-U+202E, U+2066-U+2069) are removed ("avatar
\\u202eexe.vrm" would read "avatarmrv.exe"), control characters (C0, DEL, C1) are removed, the
text is NFC-normalized (one spelling for one look, e.g. Hangul jamo sequences), and whitespace
runs (tabs and newlines included) become one space with none at the ends.
"""
from __future__ import annotations

import re
import unicodedata

# Whitespace controls (tab, newline, ...) are handled by the whitespace collapse first.
_NAME_JUNK = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def normalize_name(text: str | None, *, max_length: int | None = None) -> str:
    """The cleaned name; "" when nothing visible is left. Cut to max_length after cleaning."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", str(text))
    text = " ".join(text.split())  # every Unicode whitespace run -> one space, trimmed
    text = _NAME_JUNK.sub("", text)
    text = " ".join(text.split())  # a removed control may have left two spaces together
    if max_length is not None:
        text = text[:max_length].rstrip()
    return text
