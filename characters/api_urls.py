"""API routes of characters (mounted under /api/, namespace "api"): the avatar library, then personas."""
from .avatars.api_urls import urlpatterns as avatar_patterns
from .personas.api_urls import urlpatterns as persona_patterns

urlpatterns = [*avatar_patterns, *persona_patterns]
