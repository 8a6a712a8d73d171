from django.urls import path

from . import api

urlpatterns = [
    path("me", api.MeApi.as_view(), name="me"),
    path("tokens", api.TokenListApi.as_view(), name="tokens"),
    path("tokens/<int:token_id>", api.TokenDetailApi.as_view(), name="token-detail"),
]
