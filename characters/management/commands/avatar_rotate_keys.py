"""Re-encrypt stored avatar files with the newest key of STORAGE_ENCRYPTION_KEYS.

Rotation: prepend a new key to STORAGE_ENCRYPTION_KEYS (keep the old ones after it), deploy,
run this command, then remove the old keys. Objects already on the newest key are skipped
unless --force. Each avatar is rewritten under a new name and switched in a transaction, so the
command can be interrupted and run again.
"""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from characters.avatars.crypto import DecryptionError, current_key
from characters.avatars.services import rotate_avatar_key
from characters.models import Avatar


class Command(BaseCommand):
    help = "Re-encrypt every stored avatar file with the newest STORAGE_ENCRYPTION_KEYS key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Also rewrite objects already on the newest key.")

    def handle(self, *args: Any, force: bool = False, **options: Any) -> None:
        newest = current_key().id
        done = skipped = failed = 0
        for avatar_id in Avatar.objects.order_by("created_at").values_list("pk", flat=True).iterator():
            try:
                if rotate_avatar_key(avatar_id=avatar_id, force=force):
                    done += 1
                else:
                    skipped += 1
            except Avatar.DoesNotExist:
                continue  # deleted meanwhile
            except (DecryptionError, OSError, RuntimeError) as exc:
                failed += 1
                self.stderr.write(f"avatar {avatar_id}: {exc}")
        self.stdout.write(f"key {newest}: {done} re-encrypted, {skipped} already current, {failed} failed")
        if failed:
            raise SystemExit(1)
