"""Daphne's HTTP requests reach Django with their bodies unparsed.

Twisted's `http.Request` (Daphne's WebRequest is one) parses every POST body whose
Content-Type is multipart/form-data or x-www-form-urlencoded into `request.args` before the
ASGI application sees it. Daphne never uses those args, yet the parse (1) reads the whole body
into memory and builds an email.message tree of it (many times the upload's size in RSS), and
(2) answers a malformed body, e.g. multipart without a boundary, with Twisted's own bare
`400 Bad Request`, outside the error family. Django parses forms itself, with limits, and
answers errors through our handlers: Twisted's parse is switched off (Twisted's documented
`parsePOSTFormSubmission=False`).
"""
from __future__ import annotations

from typing import Any


def keep_bodies_unparsed() -> None:
    """Idempotent; called by avatarforge.asgi, which every Daphne process imports."""
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:  # not running under Daphne (no daphne installed)
        return
    if getattr(WebRequest, "_bodies_unparsed", False):
        return
    original_init = WebRequest.__init__

    def init_unparsed(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("parsePOSTFormSubmission", False)
        original_init(self, *args, **kwargs)

    WebRequest.__init__ = init_unparsed
    WebRequest._bodies_unparsed = True
