"""All WebSocket routes, gathered from each app's routing.py."""
from chat.routing import websocket_urlpatterns as chat_ws
from generation.routing import websocket_urlpatterns as generation_ws
from live.routing import websocket_urlpatterns as live_ws
from rooms.routing import websocket_urlpatterns as rooms_ws

websocket_urlpatterns = [*rooms_ws, *chat_ws, *generation_ws, *live_ws]
