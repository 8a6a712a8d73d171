from django.urls import path, re_path

from . import views

urlpatterns = [
    re_path(r"^overlay/(?P<key>[A-Za-z0-9_-]{16,64})/$", views.overlay, name="live_overlay"),
    re_path(r"^overlay/(?P<key>[A-Za-z0-9_-]{16,64})/clips/(?P<clip_id>[0-9a-f]{32})\.wav$", views.overlay_clip,
            name="live_overlay_clip"),
    path("chzzk/link", views.chzzk_link_start, name="live_chzzk_link"),
    path("chzzk/callback", views.chzzk_link_callback, name="live_chzzk_callback"),
]
