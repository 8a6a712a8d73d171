"""The four plans of the seed. Operators edit them in admin afterwards."""
from django.db import migrations

from accounts.plans import ensure_plans


def create_plans(apps, schema_editor):
    ensure_plans(apps.get_model("accounts", "Plan"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create_plans, migrations.RunPython.noop)]
