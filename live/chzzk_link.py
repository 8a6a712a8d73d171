"""Services for a streamer's Chzzk link: start/finish the OAuth flow, unlink, and hand the live
worker fresh credentials (refreshing the access token shortly before it expires)."""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from avatarforge.errors import AppError

from . import chzzk_oauth
from .intake.chzzk import ChzzkCredentials
from .models import ChzzkAccount
from .sealed import seal, unseal

STATE_SESSION_KEY = "live.chzzk_oauth_state"
REFRESH_MARGIN = dt.timedelta(minutes=10)


def start_link(*, session: Any, redirect_uri: str) -> str:
    """The Chzzk consent URL; the state is kept in the user's session (CSRF for the callback)."""
    if not chzzk_oauth.configured():
        raise AppError("This server has no Chzzk application configured (CHZZK_CLIENT_ID / CHZZK_CLIENT_SECRET).",
                       code="chzzk_not_configured", status=503)
    state = secrets.token_urlsafe(24)
    session[STATE_SESSION_KEY] = state
    return chzzk_oauth.authorize_url(redirect_uri=redirect_uri, state=state)


def _store(user: Any, tokens: chzzk_oauth.TokenSet, channel_id: str, channel_name: str) -> ChzzkAccount:
    account, _ = ChzzkAccount.objects.update_or_create(user=user, defaults={
        "channel_id": channel_id, "channel_name": channel_name,
        "access_token": seal(tokens.access_token), "refresh_token": seal(tokens.refresh_token),
        "expires_at": timezone.now() + dt.timedelta(seconds=max(60, tokens.expires_in)),
    })
    return account


@transaction.atomic
def finish_link(*, user: Any, session: Any, code: str, state: str) -> ChzzkAccount:
    expected = session.pop(STATE_SESSION_KEY, None)
    if not expected or not secrets.compare_digest(str(expected), str(state or "")):
        raise AppError("This link attempt expired or did not start here. Try again.", code="chzzk_state_mismatch")
    tokens = chzzk_oauth.exchange_code(code=code, state=state)
    channel_id, channel_name = chzzk_oauth.whoami(access_token=tokens.access_token)
    if not channel_id:
        raise AppError("Chzzk did not say which channel this is.", code="chzzk_no_channel")
    return _store(user, tokens, channel_id, channel_name)


@transaction.atomic
def unlink(*, user: Any) -> bool:
    return bool(ChzzkAccount.objects.filter(user=user).delete()[0])


@transaction.atomic
def credentials_for(*, user_id: int) -> ChzzkCredentials:
    """For the live worker: the streamer's user-session credentials, refreshed when near expiry."""
    account = ChzzkAccount.objects.select_for_update().filter(user_id=user_id).first()
    if account is None:
        raise AppError("Link your Chzzk account first.", code="chzzk_not_linked")
    if account.expires_at - timezone.now() < REFRESH_MARGIN:
        tokens = chzzk_oauth.refresh(refresh_token=unseal(account.refresh_token))
        account = _store(account.user, tokens, account.channel_id, account.channel_name)
    return ChzzkCredentials(client_id=settings.CHZZK_CLIENT_ID, client_secret=settings.CHZZK_CLIENT_SECRET,
                            access_token=unseal(account.access_token))
