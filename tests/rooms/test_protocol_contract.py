"""docs/protocol.md and the signaling server agree: the handshake (Origin vs token clients),
rate_limited being harmless, hangup's close code, grace_s, peer objects, and field type errors.
Sockets go through the project's real ASGI application (avatarforge.asgi), Origin check included."""
from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from rooms import signaling, state

from .conftest import Socket, _open_sockets

pytestmark = pytest.mark.django_db(transaction=True)

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\na=ice-ufrag:Zq9x\r\na=ice-pwd:secretpasswordsecretpass\r\n"
PEER_FIELDS = {"peer_id", "name", "role", "connected"}  # docs/protocol.md, "Peer objects"


def _application():
    from avatarforge.asgi import application

    return application


@database_sync_to_async
def _session_for(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


async def _handshake(code: str, *, origin: str | None = None, token: str | None = None, session_key: str | None = None):
    headers = []
    if origin:
        headers.append((b"origin", origin.encode()))
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if session_key:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()))
    communicator = WebsocketCommunicator(_application(), f"/ws/rooms/{code}/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    sock = Socket(communicator)
    if connected:
        _open_sockets.append(sock)
    return connected, sock


async def test_token_client_without_origin_is_accepted_and_joins(room_setup):
    setup = await room_setup()
    connected, sock = await _handshake(setup["room"].code, token=setup["member_token"])
    assert connected  # before: refused at the handshake with HTTP 403
    joined = await sock.join()
    assert joined["role"] == "member"


async def test_cookie_socket_without_origin_is_refused(room_setup):
    setup = await room_setup()
    session_key = await _session_for(setup["owner"])
    connected, _sock = await _handshake(setup["room"].code, session_key=session_key)
    assert not connected


async def test_no_origin_socket_is_the_token_user_never_the_cookie_user(room_setup):
    """Without Origin the cookie is dropped: the token decides who this is (here the member,
    though the cookie is the owner's)."""
    setup = await room_setup()
    session_key = await _session_for(setup["owner"])
    connected, sock = await _handshake(setup["room"].code, token=setup["member_token"], session_key=session_key)
    assert connected
    assert (await sock.join())["role"] == "member"


async def test_browser_origins_are_still_checked(room_setup):
    setup = await room_setup()
    session_key = await _session_for(setup["owner"])
    connected, sock = await _handshake(setup["room"].code, origin="http://localhost", session_key=session_key)
    assert connected and (await sock.join())["role"] == "owner"
    for kwargs in ({"session_key": session_key}, {"token": setup["member_token"]}):
        connected, _sock = await _handshake(setup["room"].code, origin="https://evil.example", **kwargs)
        assert not connected


async def test_an_invalid_token_without_origin_is_refused_by_the_consumer(room_setup):
    setup = await room_setup()
    connected, sock = await _handshake(setup["room"].code, token="af_not_a_token")
    assert connected
    assert (await sock.recv_type("error"))["code"] == "not_authenticated"
    assert await sock.closed_with() == 4401


async def _two_joined(setup):
    _ok, a = await _handshake(setup["room"].code, token=setup["owner_token"])
    joined_a = await a.join()
    _ok, b = await _handshake(setup["room"].code, token=setup["member_token"])
    joined_b = await b.join()
    peer_joined = await a.recv_type("peer_joined")
    return a, joined_a, b, joined_b, peer_joined


async def test_rate_limited_does_not_count_toward_the_error_close(room_setup, monkeypatch):
    monkeypatch.setattr(signaling, "RATE_BURST", 2)
    monkeypatch.setattr(signaling, "RATE_PER_S", 0.001)  # no refill within the test
    setup = await room_setup()
    _ok, a = await _handshake(setup["room"].code, token=setup["owner_token"])
    for i in range(2):
        await a.send({"type": "ping", "t": i})
        assert (await a.recv_type("pong"))["t"] == i
    for _ in range(signaling.ERROR_LIMIT * 2):
        await a.send({"type": "ping", "t": 1})
        assert (await a.recv_type("error"))["code"] == "rate_limited"
    assert await a.nothing()  # still open: no too_many_errors, no close


async def test_hangup_closes_the_sender_with_1000(room_setup):
    setup = await room_setup()
    a, _ja, b, joined_b, _pj = await _two_joined(setup)
    await b.send({"type": "hangup"})
    assert await b.closed_with() == 1000
    left = await a.recv_type("peer_left")
    assert left == {"type": "peer_left", "peer_id": joined_b["peer_id"], "reason": "hangup"}


async def test_peer_objects_and_grace_s_are_as_documented(room_setup):
    setup = await room_setup()
    a, joined_a, b, joined_b, peer_joined = await _two_joined(setup)
    assert set(peer_joined["peer"]) == PEER_FIELDS
    assert [set(p) for p in joined_b["peers"]] == [PEER_FIELDS]
    assert joined_b["peers"][0]["connected"] is True
    # grace_s: a JSON number of seconds (documented as a number, not necessarily an integer).
    assert isinstance(joined_a["grace_s"], (int, float)) and joined_a["grace_s"] == state.GRACE_S
    await b.close()
    dropped = await a.recv_type("peer_disconnected")
    assert dropped["grace_s"] == state.GRACE_S


@pytest.mark.parametrize(
    ("sdp", "problem"),
    [(5, "must be a string"), (["v=0"], "must be a string"), ("", "must not be empty"), (None, "required")],
)
async def test_sdp_problems_are_reported_as_they_are(room_setup, sdp, problem):
    setup = await room_setup()
    _a, _ja, b, _jb, _pj = await _two_joined(setup)
    await b.send({"type": "offer", "sdp": sdp})
    error = await b.recv_type("error")
    assert error["code"] == "invalid_message" and error["details"] == {"sdp": problem}
