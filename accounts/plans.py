"""The four plans of the seed. Used by the data migration and by tests that flush the database."""
from __future__ import annotations

from django.utils.translation import pgettext_lazy

MB = 1024 * 1024

# The default plans' names as people read them; an operator's own name is shown as written.
PLAN_LABELS = {
    "free": ("Free", pgettext_lazy("plan", "Free")),
    "pro": ("Pro", pgettext_lazy("plan", "Pro")),
    "studio": ("Studio", pgettext_lazy("plan", "Studio")),
    "enterprise": ("Enterprise", pgettext_lazy("plan", "Enterprise")),
}

# code, name, order, actor slots, concurrent AI conversations, generation jobs per day
DEFAULT_PLANS = [
    ("free", "Free", 0, 1, 1, 3),
    ("pro", "Pro", 1, 2, 3, 20),
    ("studio", "Studio", 2, 6, 6, 100),
    ("enterprise", "Enterprise", 3, 6, 12, 1000),
]


def ensure_plans(plan_model) -> None:
    """Create missing default plans; never overwrite an operator's edits."""
    for code, name, order, actors, conversations, jobs in DEFAULT_PLANS:
        plan_model.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "sort_order": order,
                "is_default": code == "free",
                "actor_slots": actors,
                "avatar_slots": 50,
                "max_avatar_bytes": 200 * MB,
                "concurrent_conversations": conversations,
                "generation_jobs_per_day": jobs,
            },
        )
