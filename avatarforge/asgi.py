"""ASGI router: HTTP through Django, WebSockets through each app's routing.py."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avatarforge.settings")
django_asgi_app = get_asgi_application()  # must run before importing consumers (app registry)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from .asgi_limits import RequestBodyLimit  # noqa: E402
from .daphne_requests import keep_bodies_unparsed  # noqa: E402
from .ws_auth import BrowserOriginOrToken, WebSocketAuthMiddleware  # noqa: E402
from .ws_routing import websocket_urlpatterns  # noqa: E402

keep_bodies_unparsed()  # Twisted must not parse (and refuse) form bodies before Django does

application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimit(django_asgi_app),  # MAX_REQUEST_BYTES, chunked bodies included
        # Browsers: Origin must be ours. Token clients without a browser Origin: token only.
        "websocket": BrowserOriginOrToken(WebSocketAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
