"""API routes of characters: the avatar library and personas, each in its own module."""
from .avatar_api_urls import urlpatterns as avatar_patterns
from .persona_api_urls import urlpatterns as persona_patterns

urlpatterns = [*avatar_patterns, *persona_patterns]
