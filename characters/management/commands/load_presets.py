"""Create or update the preset AI characters from characters/personas/presets/*.json (idempotent)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from characters.personas import services as persona_services


class Command(BaseCommand):
    help = "Load the original preset characters (one public row per language); safe to run again."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dir", type=Path, default=None, help="Folder of preset JSON files (default: characters/presets).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            created, updated = persona_services.load_presets(directory=options["dir"])
        except (ValueError, KeyError, OSError) as exc:
            raise CommandError(f"Presets not loaded: {exc}") from exc
        self.stdout.write(f"Preset characters: {created} created, {updated} updated.")
