from django.urls import path

from . import api, params_api

urlpatterns = [
    path("", api.GenerateApi.as_view(), name="generate"),
    path("options", api.OptionsApi.as_view(), name="generate-options"),
    path("status/<uuid:job_id>", api.StatusApi.as_view(), name="generate-status"),
    path("<uuid:job_id>", api.JobApi.as_view(), name="generate-job"),
    path("<uuid:job_id>/cancel", api.CancelApi.as_view(), name="generate-cancel"),
    path("<uuid:job_id>/retry", api.RetryApi.as_view(), name="generate-retry"),
    path("<uuid:job_id>/params", params_api.ParamsApi.as_view(), name="generate-params"),
    path("<uuid:job_id>/params/preview", params_api.ParamsPreviewApi.as_view(), name="generate-params-preview"),
    path("<uuid:job_id>/recrop", api.RecropApi.as_view(), name="generate-recrop"),
    path("<uuid:job_id>/actor", api.ActorApi.as_view(), name="generate-actor"),
    path("<uuid:job_id>/result.vrm", api.ResultApi.as_view(), name="generate-result"),
    path("<uuid:job_id>/photo", api.PhotoApi.as_view(), name="generate-photo"),
    path("<uuid:job_id>/stages/<slug:stage>/preview", api.StagePreviewApi.as_view(), name="generate-stage-preview"),
]
