"""URL root: pages per app, the REST API under /api/, schema and docs, i18n switcher, admin."""
from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import health, views

api_patterns = [
    path("health", health.health_view, name="health"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file (the CSP allows no inline script);
    # Swagger UI's own <style> block and style attributes need inline styles on this page only.
    path(
        "docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(SpectacularSwaggerSplitView.as_view(url_name="api:schema")),
        name="docs",
    ),
    path("accounts/", include("accounts.api_urls")),
    path("", include("characters.api_urls")),
    path("rooms/", include("rooms.api_urls")),
    path("chat/", include("chat.api_urls")),
    path("story/", include("chat.stories.api_urls")),
    path("generate/", include("generation.api_urls")),
    path("style/", include("generation.style.api_urls")),
    path("system/", include("inference.gpu.api_urls")),
    path("live/", include("live.api_urls")),
    path("", include("calls.api_urls")),
    path("", include("inference.speech.api_urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/gpu/", include("inference.gpu.admin_urls")),
    path("admin/", admin.site.urls),
    path("api/", include((api_patterns, "api"))),
    path("accounts/", include("accounts.urls")),
    path("avatars/", include("characters.avatars.urls")),
    path("characters/", include("characters.personas.urls")),
    path("rooms/", include("rooms.urls")),
    path("chat/", include("chat.urls")),
    path("story/", include("chat.stories.urls")),
    path("generate/", include("generation.urls")),
    path("live/", include("live.urls")),
    path("calls/", include("calls.urls")),
]

handler400 = "avatarforge.views.bad_request"
handler403 = "avatarforge.views.permission_denied"
handler404 = "avatarforge.views.page_not_found"
handler500 = "avatarforge.views.server_error"

admin.site.site_header = _("AvatarForge admin")
admin.site.site_title = "AvatarForge"
if settings.DEBUG:
    admin.site.index_title = "AvatarForge (debug)"
