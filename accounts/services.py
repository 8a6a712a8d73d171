"""Account writes: sign-up, plan limits under row locks, API tokens."""
from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from avatarforge.errors import AppError, LimitExceeded, NotFound
from avatarforge.text import normalize_name

from .models import ApiToken, Plan, User
from .usage import all_counters, counter

TOKEN_PREFIX = "af_"
MAX_TOKENS_PER_USER = 20


def create_user(*, email: str, password: str, display_name: str = "", plan: Plan | None = None) -> User:
    return User.objects.create_user(email=email, password=password, display_name=display_name, plan=plan or Plan.default())


def lock_user(*, user_id: int) -> User:
    """Lock the user's row (with its plan) for the rest of the transaction: the one lock every
    per-user limit check serializes on, whether the limit is a plan field (lock_user_for_limit)
    or a fixed product limit checked by the caller (e.g. personas' character count).

    Precondition: called inside transaction.atomic().
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_user must run inside transaction.atomic()")
    return User.objects.select_for_update().select_related("plan").get(pk=user_id)


def lock_user_for_limit(*, user_id: int, limit: str, needed: int = 1) -> User:
    """Lock the user's row and check that `needed` more of `limit` fit in the plan.

    Precondition: called inside transaction.atomic(); the caller creates the new rows in the same
    transaction, so two concurrent requests serialize on the row lock and can never both take the
    last slot (as healthchecks does with num_checks_available()).
    """
    user = lock_user(user_id=user_id)
    allowed = getattr(user.plan, limit)
    used = counter(limit).count(user_id)
    if used + needed > allowed:
        raise LimitExceeded(
            _("Your %(plan)s plan allows %(allowed)d %(what)s and you use %(used)d.")
            % {"plan": user.plan.label, "allowed": allowed, "what": counter(limit).label_for(allowed), "used": used},
            code=f"{limit}_exceeded",
            details={"limit": limit, "allowed": allowed, "used": used, "plan": user.plan.code},
        )
    return user


def usage_for(*, user: User) -> list[dict[str, object]]:
    """Used / allowed per registered limit, for the profile page and the API."""
    return [
        {"limit": c.limit, "label": str(c.label), "used": c.count(user.pk), "allowed": getattr(user.plan, c.limit)}
        for c in all_counters()
    ]


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def create_api_token(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token; returns it with the raw secret, which is never stored or shown again."""
    name = normalize_name(name, max_length=64)
    if not name:
        raise AppError(_("Give the token a name."), code="token_name_required")
    User.objects.select_for_update().get(pk=user.pk)
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_TOKENS_PER_USER:
        raise LimitExceeded(
            _("You have %(n)d active tokens, the most allowed. Revoke one first.") % {"n": MAX_TOKENS_PER_USER},
            code="too_many_tokens",
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:64], prefix=raw[:10], key_hash=_hash(raw))
    return token, raw


def revoke_api_token(*, user: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise NotFound(_("No such token."), code="token_not_found")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def authenticate_token(*, raw_token: str) -> User | None:
    """The active user owning an unrevoked token, or None. Records last use at most once a minute."""
    if not raw_token.startswith(TOKEN_PREFIX) or len(raw_token) > 128:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__plan")
        .filter(key_hash=_hash(raw_token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
