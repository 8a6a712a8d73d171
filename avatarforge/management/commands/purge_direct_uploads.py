"""Delete direct-upload objects (bucket prefix uploads/) whose tickets can no longer be completed:
a client that asked for an upload URL, sent the file and never finished. Run it hourly."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from avatarforge.direct_uploads import is_available, purge_stale


class Command(BaseCommand):
    help = "Delete abandoned direct-upload objects from the S3 bucket."

    def handle(self, *args: Any, **options: Any) -> None:
        if not is_available():
            self.stdout.write("STORAGE_BACKEND is not s3: nothing to purge.")
            return
        self.stdout.write(f"{purge_stale()} abandoned upload objects deleted")
