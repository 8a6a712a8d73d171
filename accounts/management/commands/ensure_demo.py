"""Create the demo account (and an admin) if missing, and print how to sign in."""
from django.core.management.base import BaseCommand

from accounts.models import Plan, User

DEMO_EMAIL = "demo@avatarforge.local"
DEMO_PASSWORD = "demo-avatar-2026"
ADMIN_EMAIL = "admin@avatarforge.local"


class Command(BaseCommand):
    help = "Ensure the demo user and admin exist; print their credentials."

    def handle(self, *args, **options) -> None:
        if not User.objects.filter(email=DEMO_EMAIL).exists():
            User.objects.create_user(email=DEMO_EMAIL, password=DEMO_PASSWORD, display_name="Demo",
                                     plan=Plan.objects.filter(code="pro").first() or Plan.default())
        if not User.objects.filter(email=ADMIN_EMAIL).exists():
            User.objects.create_superuser(email=ADMIN_EMAIL, password=DEMO_PASSWORD, display_name="Admin")
        self.stdout.write(f"Demo account: {DEMO_EMAIL} / {DEMO_PASSWORD}  (admin: {ADMIN_EMAIL}, same password)")
