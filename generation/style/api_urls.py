from django.urls import path

from . import api

urlpatterns = [
    path("transform", api.TransformApi.as_view(), name="style-transform"),
    path("status/<uuid:job_id>", api.StyleStatusApi.as_view(), name="style-status"),
    path("<uuid:job_id>", api.StyleJobApi.as_view(), name="style-job"),
    path("<uuid:job_id>/cancel", api.StyleCancelApi.as_view(), name="style-cancel"),
    path("<uuid:job_id>/retry", api.StyleRetryApi.as_view(), name="style-retry"),
    path("<uuid:job_id>/result.png", api.StyleResultApi.as_view(), name="style-result"),
]
