"""The API's one pagination: limit/offset with a ceiling on `limit`.

DRF's LimitOffsetPagination has no `max_limit` by default, so `?limit=1000000` would serialize a
whole table (every public character, every shared avatar) in one response.
"""
from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination

MAX_PAGE_SIZE = 200


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_PAGE_SIZE
