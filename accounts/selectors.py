"""Account reads."""
from django.db.models import QuerySet

from .models import ApiToken, User


def tokens_for(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at")
