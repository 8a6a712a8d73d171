"""Daphne with request bodies streamed to the application in bounded pieces, and oversized bodies
refused before they are received. Run it as `python -m avatarforge.http_server` with Daphne's
own command-line options (the embedded runner, the benchmarks and the browser tests do).

Why: measured through the real server, a 50 MB multipart upload cost ~650 MB of RSS and a
200 MB one ~2.6 GB, which stayed high. Stock Daphne (4.2) on Twisted (26) makes two copies
nobody uses or bounds:
1. Twisted spools the body to a temporary file (fine), but then twisted.web.http.Request.
   requestReceived parses every multipart/form-data (and urlencoded) POST body for its own
   `request.args`: it reads the whole body into one bytes object and runs it through the email
   parser, which makes several more whole copies. Daphne never looks at `args`. Twisted has a
   switch for it (parsePOSTFormSubmission=False); Daphne does not set it.
2. Daphne then cuts the file into 8 KB pieces and puts every piece into the application's
   asyncio queue as an `http.request` message at once, before the application has read any:
   one more whole copy, as ~25,600 small objects for 200 MB, which fragments the heap.

Here Twisted's form parsing is off, and the application's `receive()` reads the next piece from
the spooled file only when it asks for it, so at most one piece (BODY_CHUNK) is in memory per
request whatever the size: backpressure comes for free, because Django's ASGI handler asks for
the next piece only after writing the previous one to its own temporary file (and Django's
multipart parser then writes file parts to disk with TemporaryFileUploadHandler).

Oversized bodies: a Content-Length over MAX_REQUEST_BYTES is answered 413 (the error family's
`payload_too_large`, the same body as avatarforge.asgi_limits) as soon as the headers arrive,
and the bytes the client still sends are discarded, not stored; a chunked body is counted as it
arrives and refused the same way when it passes the limit. The ASGI guard in asgi_limits stays
for other servers (and for the ASGI test client).
"""
from __future__ import annotations

import sys
from functools import partial
from typing import IO, Any

# daphne.server installs Twisted's asyncio reactor; it must be imported before anything Twisted.
from daphne.server import Server  # isort:skip
from daphne.cli import CommandLineInterface  # noqa: E402
from daphne.http_protocol import HTTPFactory, WebRequest  # noqa: E402
from twisted.internet import reactor  # noqa: E402

BODY_CHUNK = 64 * 1024
# After refusing a body, keep reading (and dropping) what the client still sends for this long
# before closing: closing a socket with unread data makes the kernel send a reset, which can
# destroy the 413 answer before the client reads it.
DISCARD_LINGER_S = 5.0


class _Discard:
    """Stands in for the body file of a refused request: takes bytes and keeps none."""

    closed = False

    def write(self, data: bytes) -> None:
        pass

    def seek(self, *args: Any) -> int:
        return 0

    def read(self, *args: Any) -> bytes:
        return b""

    def close(self) -> None:
        self.closed = True


class _BodyHandle:
    """What Daphne's request processing sees as the body file: empty, so Daphne queues a single
    empty `http.request` message instead of the whole body; the real file is read lazily by
    `_stream_body` below. Closing it (Twisted does when the request ends) closes the real file,
    which deletes it."""

    def __init__(self, real: IO[bytes]) -> None:
        self.real = real

    @property
    def closed(self) -> bool:
        return self.real.closed

    def seek(self, *args: Any) -> int:
        return self.real.seek(*args)

    def read(self, *args: Any) -> bytes:
        return b""

    def write(self, data: bytes) -> None:
        self.real.write(data)

    def close(self) -> None:
        self.real.close()


class StreamingWebRequest(WebRequest):
    _refused = False
    _received = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Twisted's own form parsing reads the whole body into memory (see the module docstring).
        kwargs["parsePOSTFormSubmission"] = False
        super().__init__(*args, **kwargs)

    # Twisted calls gotLength when the headers are complete, before any body byte is read.
    def gotLength(self, length: int | None) -> None:  # noqa: N802 - Twisted's name
        super().gotLength(length)
        if length is not None and length > _limit():
            self._refuse()

    def handleContentChunk(self, data: bytes) -> None:  # noqa: N802 - Twisted's name
        if self._refused:
            return
        self._received += len(data)
        if self._received > _limit():  # a chunked body without a (truthful) length
            self._refuse()
            return
        super().handleContentChunk(data)

    def process(self) -> Any:
        if self._refused:
            return None  # answered already; the connection closes after the linger
        if not isinstance(self.content, _BodyHandle):
            self.content.seek(0)
            self.content = _BodyHandle(self.content)
        return super().process()

    def _refuse(self) -> None:
        """Answer 413 now, without waiting for (or keeping) the body."""
        from .asgi_limits import too_large_body

        self._refused = True
        old, self.content = self.content, _Discard()
        old.close()
        transport = self.channel.transport if self.channel else None
        if transport is None:
            return
        body = too_large_body(_limit())
        transport.write(
            b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        reactor.callLater(DISCARD_LINGER_S, transport.loseConnection)


def _limit() -> int:
    from django.conf import settings

    return int(settings.MAX_REQUEST_BYTES)


async def _stream_body(app: Any, body: IO[bytes], *, scope: dict[str, Any], receive: Any, send: Any) -> Any:
    """Run `app` with a receive() that reads the body from `body` one piece per call."""
    size = body.seek(0, 2)
    body.seek(0)
    state = {"left": size, "skip_placeholder": True}

    async def body_receive() -> dict[str, Any]:
        if state["left"] > 0:
            try:
                chunk = body.read(min(BODY_CHUNK, state["left"]))
            except ValueError:  # the file was closed: the client went away
                state["left"] = 0
                return {"type": "http.disconnect"}
            state["left"] -= len(chunk)
            if not chunk:  # shorter than it was: treat as the end
                state["left"] = 0
            return {"type": "http.request", "body": chunk, "more_body": state["left"] > 0}
        message = await receive()
        if state["skip_placeholder"] and message.get("type") == "http.request":
            # Daphne's own (empty) body message; the body was served above.
            state["skip_placeholder"] = False
            if size:
                message = await receive()
        state["skip_placeholder"] = False
        return message

    return await app(scope=scope, receive=body_receive, send=send)


class StreamingServer(Server):
    def create_application(self, protocol: Any, scope: dict[str, Any]) -> Any:
        content = getattr(protocol, "content", None)
        if scope.get("type") != "http" or not isinstance(content, _BodyHandle):
            return super().create_application(protocol, scope)
        # The reactor runs one callback at a time, so swapping the application for this one
        # call is safe: Server.create_application instantiates it synchronously.
        application = self.application
        self.application = partial(_stream_body, application, content.real)
        try:
            return super().create_application(protocol, scope)
        finally:
            self.application = application

    def run(self) -> None:
        import daphne.server as daphne_server

        # Server.run builds `HTTPFactory(self)` by its module-level name: point it at ours.
        daphne_server.HTTPFactory = StreamingHTTPFactory
        super().run()


class StreamingHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr: Any) -> Any:  # noqa: N802 - Twisted's name
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = StreamingWebRequest
        return protocol


class StreamingCommandLine(CommandLineInterface):
    server_class = StreamingServer


def main(argv: list[str] | None = None) -> None:
    StreamingCommandLine().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
