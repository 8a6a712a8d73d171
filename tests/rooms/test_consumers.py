"""The signaling consumer through the real auth stack and channel layer (Redis in CI)."""
from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from django.urls import re_path

from avatarforge.ws_auth import WebSocketAuthMiddleware
from rooms import signaling, state
from rooms.consumers import RoomConsumer
from rooms.services import close_room, create_room

from .conftest import guest_session, open_socket, redis_hits

pytestmark = pytest.mark.django_db(transaction=True)

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\na=ice-ufrag:Zq9x\r\na=ice-pwd:secretpasswordsecretpass\r\n"


async def two_joined(setup):
    a = await open_socket(setup["room"].code, token=setup["owner_token"])
    joined_a = await a.join()
    b = await open_socket(setup["room"].code, token=setup["member_token"])
    joined_b = await b.join()
    peer_joined = await a.recv_type("peer_joined")
    assert peer_joined["peer"]["peer_id"] == joined_b["peer_id"]
    return a, joined_a, b, joined_b


async def test_anonymous_socket_is_refused(room_setup):
    setup = await room_setup()
    sock = await open_socket(setup["room"].code)
    error = await sock.recv_type("error")
    assert error["code"] == "not_authenticated"
    assert await sock.closed_with() == 4401
    assert await state.get_seats(setup["room"].code) == [None, None]


async def test_unknown_and_closed_rooms(room_setup):
    setup = await room_setup()
    sock = await open_socket("nosuchroom2", token=setup["owner_token"])
    assert (await sock.recv_type("error"))["code"] == "room_not_found"
    assert await sock.closed_with() == 4404

    await database_sync_to_async(close_room)(room_id=setup["room"].pk, user=setup["owner"])
    sock = await open_socket(setup["room"].code, token=setup["member_token"])
    assert (await sock.recv_type("error"))["code"] == "room_closed"
    assert await sock.closed_with() == 4410


async def test_join_and_relay_only_to_the_other(room_setup):
    setup = await room_setup()
    a, joined_a, b, joined_b = await two_joined(setup)
    assert joined_a["initiator"] is False and joined_a["peers"] == [] and joined_a["role"] == "owner"
    assert joined_b["initiator"] is True and joined_b["role"] == "member" and joined_b["seat"] == 1
    assert joined_b["peers"] == [{"peer_id": joined_a["peer_id"], "name": "owner", "role": "owner", "connected": True}]

    await b.send({"type": "offer", "sdp": SDP, "extra": "dropped"})
    assert await a.recv() == {"type": "offer", "sdp": SDP, "from": joined_b["peer_id"]}
    assert await b.nothing()  # never echoed

    await a.send({"type": "answer", "sdp": SDP})
    assert await b.recv() == {"type": "answer", "sdp": SDP, "from": joined_a["peer_id"]}
    assert await a.nothing()

    candidate = {"candidate": "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host", "sdpMid": "0",
                 "sdpMLineIndex": 0, "usernameFragment": "Zq9x"}
    await b.send({"type": "candidate", "candidate": candidate})
    assert await a.recv() == {"type": "candidate", "candidate": candidate, "from": joined_b["peer_id"]}
    await b.send({"type": "candidate", "candidate": None})
    assert (await a.recv())["candidate"] is None

    avatar = {"renderer": "vrm", "fileHash": "a" * 64, "id": "av1", "name": "Godette",
              "license": {"name": "CC_BY", "authors": ["SirRichard94", "Lyuma"], "url": "",
                          "card": [{"key": "creditNotation", "state": "required", "label": "Credit", "value": "Required",
                                    "code": "required", "declared": True}]}}
    await a.send({"type": "avatar", "avatar": avatar})
    assert await b.recv() == {"type": "avatar", "avatar": avatar, "from": joined_a["peer_id"]}
    assert await a.nothing()
    # Frame-version negotiation rides on the avatar message: deduplicated, sorted, relayed.
    await b.send({"type": "avatar", "avatar": avatar, "frames": [2, 1, 2]})
    assert await a.recv() == {"type": "avatar", "avatar": avatar, "frames": [1, 2], "from": joined_b["peer_id"]}

    await a.send({"type": "ping", "t": 42})
    assert await a.recv() == {"type": "pong", "t": 42}
    assert await b.nothing()
    await a.close()
    await b.close()


async def test_third_participant_is_refused(room_setup, make_member):
    setup = await room_setup()
    a, _ja, b, _jb = await two_joined(setup)
    _user, third_token = await database_sync_to_async(make_member)("third@example.com")
    c = await open_socket(setup["room"].code, token=third_token)
    await c.send({"type": "join"})
    error = await c.recv_type("error")
    assert error["code"] == "room_full" and error["details"] == {"max_participants": 2}
    assert await c.closed_with() == 4409
    seats = await state.get_seats(setup["room"].code)
    assert [s.identity for s in seats] == [f"u:{setup['owner'].pk}", f"u:{setup['member'].pk}"]
    assert await a.nothing() and await b.nothing()  # the two in the call hear nothing of it
    await a.close()
    await b.close()


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_json"),
        (json.dumps({"type": "teleport"}), "unknown_type"),
        (json.dumps({"no": "type"}), "unknown_type"),
        (json.dumps({"type": "offer"}), "invalid_message"),
        (json.dumps({"type": "offer", "sdp": 5}), "invalid_message"),
        (json.dumps({"type": "offer", "sdp": "x" * 16_385}), "sdp_too_large"),
        (json.dumps({"type": "candidate", "candidate": {"candidate": "c" * 1025}}), "candidate_too_large"),
        (json.dumps({"type": "candidate", "candidate": "nope"}), "invalid_message"),
        (json.dumps({"type": "candidate"}), "invalid_message"),
        (json.dumps({"type": "avatar", "avatar": {"renderer": "3d"}}), "invalid_avatar"),
        (json.dumps({"type": "avatar", "avatar": {"renderer": "vrm", "fileHash": "zz"}}), "invalid_avatar"),
        (json.dumps({"type": "avatar", "avatar": {"renderer": "2d", "license": {"authors": "Mallory"}}}), "invalid_avatar"),
        (json.dumps({"type": "avatar", "avatar": {"renderer": "2d", "license": {"x": "y" * 5000}}}), "avatar_too_large"),
        (json.dumps({"type": "avatar", "avatar": {"renderer": "2d"}, "frames": "2"}), "invalid_message"),
        (json.dumps({"type": "avatar", "avatar": {"renderer": "2d"}, "frames": [0]}), "invalid_message"),
        (json.dumps({"type": "avatar", "avatar": {"renderer": "2d"}, "frames": [True]}), "invalid_message"),
        (json.dumps({"type": "avatar", "avatar": {"renderer": "2d"}, "frames": [1] * 9}), "invalid_message"),
        (json.dumps({"type": "avatar", "avatar": {"renderer": "2d"}, "frames": []}), "invalid_message"),
        ("x" * 40_000, "message_too_large"),
        ("[" * 1000 + "]" * 1000, "json_too_deep"),
        ("[" * 20_000 + "]" * 20_000, "message_too_large"),  # size is checked before parsing
    ],
)
async def test_invalid_message_gets_an_error_frame_not_a_disconnect(room_setup, message, code):
    setup = await room_setup()
    a, _ja, b, _jb = await two_joined(setup)
    await b.c.send_to(text_data=message)
    error = await b.recv_type("error")
    assert error["code"] == code and error["message"]
    assert await a.nothing()  # nothing of it reaches the other side
    await b.send({"type": "ping", "t": 1})
    assert await b.recv() == {"type": "pong", "t": 1}  # still connected
    await a.close()
    await b.close()


@pytest.mark.parametrize(
    ("avatar", "details"),
    [
        ({"renderer": "2d", "license": {"name": "CC0", "authors": "Mallory"}}, {"avatar.license.authors": "must be an array"}),
        ({"renderer": "2d", "license": {"authors": ["ok", 7]}}, {"avatar.license.authors.1": "must be a string"}),
        ({"renderer": "2d", "license": {"card": [{"key": "k", "state": "s", "label": ["x"], "value": "v"}]}},
         {"avatar.license.card.0.label": "must be a string"}),
        ({"renderer": "2d", "license": {"card": {"key": "k"}}}, {"avatar.license.card": "must be an array"}),
        ({"renderer": "2d", "license": "CC0"}, {"avatar.license": "must be an object or null"}),
        ({"renderer": "2d", "license": {"name": "CC0", "onclick": "x"}}, {"avatar.license.onclick": "is not allowed"}),
        ({"renderer": "2d", "name": {"first": "x"}}, {"avatar.name": "must be a string or null"}),
        ({"renderer": "vrm", "id": "1"}, {"avatar.fileHash": "required"}),
        ({"renderer": "vrm", "fileHash": None}, {"avatar.fileHash": "must be a string"}),
    ],
)
async def test_malformed_avatar_description_is_refused_with_the_field_at_fault(room_setup, avatar, details):
    """A description the other page could not render is never relayed (docs/protocol.md, `avatar`)."""
    setup = await room_setup()
    a, _ja, b, _jb = await two_joined(setup)
    await b.send({"type": "avatar", "avatar": avatar})
    error = await b.recv_type("error")
    assert error["code"] == "invalid_avatar" and error["message"]
    assert error["details"] == details
    assert await a.nothing()
    await a.close()
    await b.close()


async def test_binary_and_pre_join_messages(room_setup):
    setup = await room_setup()
    a = await open_socket(setup["room"].code, token=setup["owner_token"])
    await a.c.send_to(bytes_data=b"\x01\x02")
    assert (await a.recv_type("error"))["code"] == "invalid_json"
    await a.send({"type": "offer", "sdp": SDP})
    assert (await a.recv_type("error"))["code"] == "not_joined"
    await a.join()
    await a.send({"type": "join"})
    assert (await a.recv_type("error"))["code"] == "already_joined"
    await a.send({"type": "offer", "sdp": SDP})
    assert (await a.recv_type("error"))["code"] == "peer_not_connected"
    await a.close()


async def test_repeated_bad_messages_close_the_socket(room_setup):
    setup = await room_setup()
    a, _ja, b, _jb = await two_joined(setup)
    for _ in range(signaling.ERROR_LIMIT - 1):
        await b.c.send_to(text_data="garbage")
        assert (await b.recv_type("error"))["code"] == "invalid_json"
    await b.c.send_to(text_data="garbage")
    final = await b.recv_type("error")
    assert final["code"] == "too_many_errors" and final["details"] == {"last": "invalid_json"}
    assert await b.closed_with() == 4429
    # Closed for misbehaving, not a network drop: the seat is held like any drop (grace period).
    assert (await a.recv_type("peer_disconnected"))["peer_id"] == _jb["peer_id"]
    await a.close()


async def test_rate_limit_per_connection(room_setup, monkeypatch):
    monkeypatch.setattr(signaling, "RATE_BURST", 5)
    monkeypatch.setattr(signaling, "RATE_PER_S", 0.001)  # no refill within the test
    setup = await room_setup()
    a = await open_socket(setup["room"].code, token=setup["owner_token"])
    other = await open_socket(setup["room"].code, token=setup["member_token"])
    for i in range(5):
        await a.send({"type": "ping", "t": i})
        assert await a.recv() == {"type": "pong", "t": i}
    await a.send({"type": "ping", "t": 5})
    error = await a.recv_type("error")
    assert error["code"] == "rate_limited" and error["details"]["retry_after_ms"] > 0
    # The limit is per connection: another socket is unaffected.
    await other.send({"type": "ping", "t": 9})
    assert await other.recv() == {"type": "pong", "t": 9}
    await a.close()
    await other.close()


async def test_reconnection_within_grace_keeps_the_seat(room_setup):
    setup = await room_setup()
    a, joined_a, b, joined_b = await two_joined(setup)
    await b.close()  # the network drops, no hang-up
    dropped = await a.recv_type("peer_disconnected")
    assert dropped == {"type": "peer_disconnected", "peer_id": joined_b["peer_id"], "grace_s": state.GRACE_S}
    seats = await state.get_seats(setup["room"].code)
    assert seats[1].peer_id == joined_b["peer_id"] and seats[1].connected is False and seats[1].channel is None

    b2 = await open_socket(setup["room"].code, token=setup["member_token"])
    rejoined = await b2.join()
    assert rejoined["resumed"] is True and rejoined["peer_id"] == joined_b["peer_id"] and rejoined["seat"] == 1
    assert rejoined["initiator"] is True  # the returning side offers again (ICE restart)
    back = await a.recv_type("peer_joined")
    assert back["resumed"] is True and back["peer"]["peer_id"] == joined_b["peer_id"]

    await b2.send({"type": "offer", "sdp": SDP})
    assert (await a.recv())["from"] == joined_b["peer_id"]
    await a.close()
    await b2.close()


async def test_a_reload_whose_new_page_joins_first_does_not_disconnect_the_call(room_setup):
    # The reloaded page's socket claims the seat (here straight through the state, as another
    # Daphne process would) before the old page's close is handled: the old close must not tell
    # the other side that its peer went away, nor cut the relay to the resumed seat.
    setup = await room_setup()
    code = setup["room"].code
    a, _ja, b, joined_b = await two_joined(setup)
    old_b = (await state.get_seats(code))[1].channel
    layer = get_channel_layer()
    new_channel = await layer.new_channel()
    claim = await state.claim_seat(code=code, identity=f"u:{setup['member'].pk}", name="m", role="member", channel=new_channel)
    assert claim.resumed and claim.replaced_channel == old_b
    a_channel = (await state.get_seats(code))[0].channel
    await layer.send(a_channel, {"type": "rooms.peer_joined", "peer": claim.seat.public(), "channel": new_channel, "resumed": True})
    assert (await a.recv_type("peer_joined"))["resumed"] is True
    await b.close()
    assert await a.nothing(0.5)
    seats = await state.get_seats(code)
    assert seats[1].connected and seats[1].channel == new_channel
    await a.send({"type": "offer", "sdp": SDP})  # relayed to the new socket's channel
    relayed = await asyncio.wait_for(layer.receive(new_channel), 5)
    assert relayed["type"] == "rooms.relay" and relayed["message"]["sdp"] == SDP
    assert joined_b["peer_id"] == claim.seat.peer_id
    await a.close()


async def test_a_late_peer_disconnected_after_the_comeback_is_ignored(room_setup):
    # The old page's close and the new page's join reach the other side through two consumers:
    # a peer_disconnected arriving after the resumed peer_joined must not cut the call off.
    setup = await room_setup()
    code = setup["room"].code
    a, _ja, b, joined_b = await two_joined(setup)
    await b.close()
    assert (await a.recv_type("peer_disconnected"))["peer_id"] == joined_b["peer_id"]
    b2 = await open_socket(code, token=setup["member_token"])
    assert (await b2.join())["resumed"] is True
    assert (await a.recv_type("peer_joined"))["resumed"] is True
    a_channel = (await state.get_seats(code))[0].channel
    await get_channel_layer().send(
        a_channel, {"type": "rooms.peer_disconnected", "peer_id": joined_b["peer_id"], "grace_s": state.GRACE_S}
    )
    assert await a.nothing(0.5)
    await a.send({"type": "offer", "sdp": SDP})
    assert (await b2.recv_type("offer"))["from"] == _ja["peer_id"]
    await a.close()
    await b2.close()


async def test_seat_is_freed_when_the_grace_period_ends(room_setup, monkeypatch, make_member):
    monkeypatch.setattr(state, "GRACE_S", 0.3)
    setup = await room_setup()
    a, _ja, b, joined_b = await two_joined(setup)
    await b.close()
    assert (await a.recv_type("peer_disconnected"))["grace_s"] == 0.3
    left = await a.recv_type("peer_left", timeout=10)
    assert left == {"type": "peer_left", "peer_id": joined_b["peer_id"], "reason": "timeout"}
    seats = await state.get_seats(setup["room"].code)
    assert seats[1] is None and seats[0] is not None
    # The free seat can be taken by someone else now.
    _user, token = await database_sync_to_async(make_member)("late@example.com")
    c = await open_socket(setup["room"].code, token=token)
    assert (await c.join())["resumed"] is False
    await a.close()
    await c.close()


async def test_same_participant_on_a_second_socket_replaces_the_first(room_setup):
    setup = await room_setup()
    first = await open_socket(setup["room"].code, token=setup["owner_token"])
    joined_first = await first.join()
    second = await open_socket(setup["room"].code, token=setup["owner_token"])
    joined_second = await second.join()
    assert joined_second["peer_id"] == joined_first["peer_id"] and joined_second["resumed"] is True
    assert (await first.recv_type("error"))["code"] == "replaced"
    assert await first.closed_with() == 4412
    seats = await state.get_seats(setup["room"].code)
    assert seats[0].connected and seats[1] is None  # the old socket's close did not release the seat
    await second.close()


async def test_state_is_gone_after_hang_up(room_setup):
    setup = await room_setup()
    code = setup["room"].code
    a, _ja, b, joined_b = await two_joined(setup)
    await b.send({"type": "offer", "sdp": SDP})
    await a.recv_type("offer")
    assert await state.has_state(code)
    await b.send({"type": "hangup"})
    assert await b.closed_with() == 1000
    assert await a.recv() == {"type": "peer_left", "peer_id": joined_b["peer_id"], "reason": "hangup"}
    await a.send({"type": "hangup"})
    assert await a.closed_with() == 1000
    assert not await state.has_state(code)
    assert await state.get_seats(code) == [None, None]
    assert redis_hits(["ice-ufrag:Zq9x", "secretpassword", code]) == []


async def test_guest_joins_with_a_redeemed_invite_in_their_session(room_setup):
    setup = await room_setup()
    code = setup["room"].code
    session_key = await database_sync_to_async(guest_session)(code, "abc123", "Visitor")
    guest = await open_socket(code, session_key=session_key)
    joined = await guest.join()
    assert joined["role"] == "guest" and joined["name"] == "Visitor"
    seats = await state.get_seats(code)
    assert seats[0].identity == "g:abc123"

    other_room = await database_sync_to_async(create_room)(owner=setup["owner"])
    stranger = await open_socket(other_room.code, session_key=session_key)  # the invite was for another room
    assert (await stranger.recv_type("error"))["code"] == "not_authenticated"
    assert await stranger.closed_with() == 4401
    await guest.close()


async def test_closing_the_room_ends_the_call(room_setup):
    setup = await room_setup()
    code = setup["room"].code
    a, _ja, b, _jb = await two_joined(setup)
    await database_sync_to_async(close_room)(room_id=setup["room"].pk, user=setup["owner"])
    for sock in (a, b):
        assert await sock.recv() == {"type": "room_closed", "reason": "closed"}
        assert await sock.closed_with() == 4410
    assert not await state.has_state(code)


async def test_ice_servers_carry_turn_rest_credentials(room_setup, settings):
    settings.STUN_URLS = ["stun:stun.example.org:3478"]
    settings.TURN_URLS = ["turn:turn.example.org:3478?transport=udp"]
    settings.TURN_SECRET = "s3cret"
    setup = await room_setup()
    a = await open_socket(setup["room"].code, token=setup["member_token"])
    joined = await a.join()
    stun, turn = joined["ice_servers"]
    assert stun == {"urls": ["stun:stun.example.org:3478"]}
    expiry, user_id = turn["username"].split(":")
    assert user_id == str(setup["member"].pk) and int(expiry) > 0
    assert turn["urls"] == ["turn:turn.example.org:3478?transport=udp"] and len(turn["credential"]) == 28
    await a.close()


class SecondProcessConsumer(RoomConsumer):
    channel_layer_alias = "second"


async def test_two_server_processes_sharing_redis_carry_one_call(room_setup, settings):
    """Each side's consumer uses its own RedisChannelLayer instance (as two Daphne processes
    would); relays, peer events and seats cross between them only through Redis. The real
    two-Daphne version is tests/rooms/test_e2e.py."""
    settings.CHANNEL_LAYERS = {**settings.CHANNEL_LAYERS, "second": settings.CHANNEL_LAYERS["default"]}
    second_app = WebSocketAuthMiddleware(
        URLRouter([re_path(r"^ws/rooms/(?P<code>[a-z0-9]{1,32})/$", SecondProcessConsumer.as_asgi())])
    )
    setup = await room_setup()
    code = setup["room"].code
    a = await open_socket(code, token=setup["owner_token"])
    joined_a = await a.join()
    b = await open_socket(code, token=setup["member_token"], application=second_app)
    joined_b = await b.join()
    assert joined_b["peers"][0]["peer_id"] == joined_a["peer_id"]
    assert (await a.recv_type("peer_joined"))["peer"]["peer_id"] == joined_b["peer_id"]
    assert get_channel_layer("second") is not get_channel_layer()

    await b.send({"type": "offer", "sdp": SDP})
    assert (await a.recv())["sdp"] == SDP
    await a.send({"type": "answer", "sdp": SDP})
    assert (await b.recv())["from"] == joined_a["peer_id"]
    await b.send({"type": "hangup"})
    assert (await a.recv_type("peer_left"))["reason"] == "hangup"
    await a.send({"type": "hangup"})
    assert await a.closed_with() == 1000
    assert not await state.has_state(code)
    await get_channel_layer("second").close_pools()
