from django.urls import path

from . import api

urlpatterns = [
    path("sessions", api.SessionListApi.as_view(), name="live-sessions"),
    path("sessions/<uuid:session_id>", api.SessionDetailApi.as_view(), name="live-session"),
    path("sessions/<uuid:session_id>/start", api.StartApi.as_view(), name="live-start"),
    path("sessions/<uuid:session_id>/stop", api.StopApi.as_view(), name="live-stop"),
    path("sessions/<uuid:session_id>/pause", api.PauseApi.as_view(), name="live-pause"),
    path("sessions/<uuid:session_id>/resume", api.ResumeApi.as_view(), name="live-resume"),
    path("sessions/<uuid:session_id>/emergency-stop", api.EmergencyStopApi.as_view(), name="live-emergency-stop"),
    path("sessions/<uuid:session_id>/say", api.SayApi.as_view(), name="live-say"),
    path("sessions/<uuid:session_id>/test-chat", api.TestChatApi.as_view(), name="live-test-chat"),
    path("sessions/<uuid:session_id>/overlay/clear", api.ClearOverlayApi.as_view(), name="live-overlay-clear"),
    path("sessions/<uuid:session_id>/overlay/rotate-key", api.RotateOverlayKeyApi.as_view(), name="live-overlay-rotate"),
    path("viewers", api.ViewerListApi.as_view(), name="live-viewers"),
    path("viewers/<int:viewer_pk>", api.ViewerDetailApi.as_view(), name="live-viewer"),
    path("overlay/<str:key>/state", api.OverlayStateApi.as_view(), name="live-overlay-state"),
]
