from django.urls import path, re_path

from . import views

urlpatterns = [
    path("", views.home, name="live_home"),
    path("new", views.create, name="live_create"),
    path("<uuid:session_id>/", views.detail, name="live_session"),
    path("<uuid:session_id>/settings", views.update_settings, name="live_settings"),
    path("chzzk/unlink", views.chzzk_unlink, name="live_chzzk_unlink"),
    re_path(r"^overlay/(?P<key>[A-Za-z0-9_-]{16,64})/$", views.overlay, name="live_overlay"),
    re_path(r"^overlay/(?P<key>[A-Za-z0-9_-]{16,64})/clips/(?P<clip_id>[0-9a-f]{32})\.wav$", views.overlay_clip,
            name="live_overlay_clip"),
    path("chzzk/link", views.chzzk_link_start, name="live_chzzk_link"),
    path("chzzk/callback", views.chzzk_link_callback, name="live_chzzk_callback"),
]
