"""All WebSocket routes, gathered from the routing modules named in settings.WEBSOCKET_ROUTING.

Named in settings (like ROOT_URLCONF), not imported here, so the platform package depends on no
feature app (an import-linter contract checks it).
"""
from importlib import import_module

from django.conf import settings

websocket_urlpatterns = [
    route for module in settings.WEBSOCKET_ROUTING for route in import_module(module).websocket_urlpatterns
]
