"""The four plans of the seed. Operators edit them in admin afterwards."""
from django.db import migrations

MB = 1024 * 1024
PLANS = [
    # code, name, order, actor slots, concurrent AI conversations, generation jobs per day
    ("free", "Free", 0, 1, 1, 3),
    ("pro", "Pro", 1, 2, 3, 20),
    ("studio", "Studio", 2, 6, 6, 100),
    ("enterprise", "Enterprise", 3, 6, 12, 1000),
]


def create_plans(apps, schema_editor):
    Plan = apps.get_model("accounts", "Plan")
    for code, name, order, actors, conversations, jobs in PLANS:
        Plan.objects.update_or_create(
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


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create_plans, migrations.RunPython.noop)]
