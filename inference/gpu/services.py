"""Writes on GPU hosts: switching a host's mode on an administrator's request."""
from __future__ import annotations

from django.utils.translation import gettext as _

from avatarforge.errors import Forbidden

from .client import ModeGrant, request_mode


def switch_mode(*, user, mode: str, host: str | None = None) -> ModeGrant:
    """Queue a switch (FIFO with every other mode request) and wait for it. Staff only.

    No lease is taken: the mode stays until the next request asks for another one.
    """
    if not (user.is_authenticated and user.is_staff):
        raise Forbidden(_("Only staff can switch GPU modes."))
    return request_mode(mode, host=host, lease=False)
