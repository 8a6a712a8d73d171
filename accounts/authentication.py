"""DRF authentication by API token: `Authorization: Bearer af_...` (or `Token af_...`)."""
from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .services import authenticate_token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request: Request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        kind, _sep, raw = header.partition(" ")
        if kind.lower() not in self.keywords:
            return None
        raw = raw.strip()
        user = authenticate_token(raw_token=raw) if raw else None
        if user is None:
            raise exceptions.AuthenticationFailed(_("The API token is invalid or revoked."))
        return user, raw

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
