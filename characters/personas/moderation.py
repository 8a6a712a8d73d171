"""Writes for moderating AI characters: a user reports someone else's character; admins hide
or unhide characters, dismiss reports, and feature characters in everybody's default list.

The same conventions as services.py: keyword-only arguments, authorization inside (the
selectors' visibility rule for reporters, staff with the model permission for admins),
@transaction.atomic, errors in the one family.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from avatarforge.errors import AppError, Conflict, Forbidden, TooManyRequests

from ..models import Character, CharacterReport, ReportReason, ReportStatus
from ..models.reports import MAX_REPORT_DETAILS
from . import selectors
from .cards.cards import clean_text
from .signals import characters_hidden

# Reports a user may file per hour: enough for anyone who meets several bad characters, too few
# to flood the admins' queue.
REPORTS_PER_HOUR = 10


def _report_rate(user: User) -> None:
    bucket = int(time.time() // 3600)
    key = f"character-report:{user.pk}:{bucket}"
    cache.add(key, 0, timeout=3700)
    try:
        used = cache.incr(key)
    except ValueError:  # the key expired between add and incr
        used = 1
    if used > REPORTS_PER_HOUR:
        retry_after = 3600 - int(time.time()) % 3600
        raise TooManyRequests(
            _("You sent %(n)d reports in the last hour, the most allowed. Try again later.") % {"n": REPORTS_PER_HOUR},
            code="report_rate_limited", retry_after=retry_after, details={"retry_after": retry_after},
        )


def _clean_report(reason: Any, details: Any) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    if reason not in ReportReason.values:
        errors["reason"] = [_("Choose a reason.")]
    details = clean_text(details.strip()) if isinstance(details, str) else None
    if details is None:
        errors["details"] = [_("Must be text.")]
    elif len(details) > MAX_REPORT_DETAILS:
        errors["details"] = [_("At most %(n)d characters.") % {"n": MAX_REPORT_DETAILS}]
    if errors:
        raise AppError(_("Some fields are invalid."), code="invalid", details=errors)
    return reason, details or ""


@transaction.atomic
def report_character(*, user: User, character_id: Any, reason: str, details: str = "") -> CharacterReport:
    """File a report on someone else's character `user` can see. 409 `report_exists` while the
    user's earlier report on it is still open; 429 `report_rate_limited` past REPORTS_PER_HOUR."""
    character = selectors.reportable_character(user=user, character_id=character_id)
    reason, details = _clean_report(reason, details)
    if selectors.has_open_report(user=user, character=character):
        raise Conflict(_("You already reported this character. An admin will look at it."), code="report_exists")
    _report_rate(user)
    try:
        # A savepoint: a concurrent duplicate trips the one-open-report constraint, not the transaction.
        with transaction.atomic():
            return CharacterReport.objects.create(character=character, reporter=user, reason=reason, details=details)
    except IntegrityError:
        raise Conflict(_("You already reported this character. An admin will look at it."), code="report_exists") from None


def _check_moderator(admin: Any) -> None:
    if not (admin is not None and admin.is_active and admin.is_staff and admin.has_perm("characters.change_character")):
        raise Forbidden(_("Only moderators can do this."), code="permission_denied")


@transaction.atomic
def set_hidden(*, admin: User, character_ids: Iterable[Any], hidden: bool) -> int:
    """Hide (or show again) characters; hiding resolves their open reports as acted on.
    Returns how many characters changed."""
    _check_moderator(admin)
    now = timezone.now()
    characters = Character.objects.select_for_update().filter(pk__in=list(character_ids), is_draft=False)
    if hidden:
        targets = [c.pk for c in characters if c.hidden_at is None]
        changed = Character.objects.filter(pk__in=targets).update(hidden_at=now)
        transaction.on_commit(lambda: characters_hidden.send(sender=Character, character_ids=targets))
        CharacterReport.objects.filter(character_id__in=[c.pk for c in characters], status=ReportStatus.OPEN).update(
            status=ReportStatus.ACTIONED, resolved_at=now, resolved_by=admin)
        return changed
    return Character.objects.filter(pk__in=[c.pk for c in characters], hidden_at__isnull=False).update(hidden_at=None)


@transaction.atomic
def dismiss_reports(*, admin: User, report_ids: Iterable[Any]) -> int:
    """Close open reports without acting on the character."""
    _check_moderator(admin)
    return CharacterReport.objects.filter(pk__in=list(report_ids), status=ReportStatus.OPEN).update(
        status=ReportStatus.DISMISSED, resolved_at=timezone.now(), resolved_by=admin)


@transaction.atomic
def set_featured(*, admin: User, character_ids: Iterable[Any], featured: bool) -> int:
    """Feature characters in everybody's default list (only public ones are listed to others)."""
    _check_moderator(admin)
    return Character.objects.filter(pk__in=list(character_ids), is_draft=False).exclude(featured=featured).update(
        featured=featured)
