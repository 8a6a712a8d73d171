"""WebSocket connections authenticate by session cookie or API token; others get an error frame."""
from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.urls import path

from accounts.services import create_api_token
from avatarforge.consumers import CLOSE_UNAUTHENTICATED, AppJsonConsumer
from avatarforge.ws_auth import TOKEN_SUBPROTOCOL, WebSocketAuthMiddleware

pytestmark = pytest.mark.django_db(transaction=True)


class WhoAmI(AppJsonConsumer):
    # Authentication needs no channel layer. Without one, a socket the server has closed leaves
    # no Redis BZPOPMIN in flight for the test loop's teardown to cancel (a CI run once hung
    # there for the full 300 s timeout, polling Redis's 30 s socket timeout).
    channel_layer_alias = None

    async def on_connect(self) -> None:
        await self.send_json({"type": "hello", "email": self.scope["user"].email})


app = WebSocketAuthMiddleware(URLRouter([path("ws/whoami/", WhoAmI.as_asgi())]))


async def connect(**kwargs) -> tuple[WebsocketCommunicator, dict]:
    communicator = WebsocketCommunicator(app, "/ws/whoami/", **kwargs)
    connected, _ = await communicator.connect()
    assert connected
    return communicator, await communicator.receive_json_from(timeout=5)


async def test_anonymous_gets_error_frame_and_close():
    communicator, frame = await connect()
    assert frame == {"type": "error", "code": "not_authenticated", "message": frame["message"], "details": None}
    assert (await communicator.receive_output(timeout=5))["code"] == CLOSE_UNAUTHENTICATED


async def test_bearer_token_header(make_user):
    user = await database_sync_to_async(make_user)("ws@example.com")
    _token, raw = await database_sync_to_async(create_api_token)(user=user, name="ws")
    communicator, frame = await connect(headers=[(b"authorization", f"Bearer {raw}".encode())])
    assert frame == {"type": "hello", "email": "ws@example.com"}
    await communicator.disconnect()


async def test_token_subprotocol_for_browsers(make_user):
    user = await database_sync_to_async(make_user)("sub@example.com")
    _token, raw = await database_sync_to_async(create_api_token)(user=user, name="ws")
    communicator, frame = await connect(subprotocols=[TOKEN_SUBPROTOCOL, raw])
    assert frame["email"] == "sub@example.com"
    await communicator.disconnect()


async def test_revoked_or_wrong_token_is_refused():
    communicator, frame = await connect(headers=[(b"authorization", b"Bearer af_wrong")])
    assert frame["code"] == "not_authenticated"


async def test_session_cookie(make_user):
    user = await database_sync_to_async(make_user)("cookie@example.com")

    def make_session() -> str:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.save()
        return store.session_key

    key = await database_sync_to_async(make_session)()
    cookie = f"{settings.SESSION_COOKIE_NAME}={key}".encode()
    communicator, frame = await connect(headers=[(b"cookie", cookie)])
    assert frame["email"] == "cookie@example.com"
    await communicator.disconnect()
