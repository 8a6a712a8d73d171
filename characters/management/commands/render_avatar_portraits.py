"""Draw the built-in 2D avatars' portraits with the browser renderer and save them as static
files (static/img/portraits/<key>.png, committed). Run after changing renderer2d.js or
characters2d.js; needs the dev requirements (Playwright) and Chromium."""
from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from characters.personas import portraits


class Command(BaseCommand):
    help = "Render the built-in 2D avatars' portraits in headless Chromium into static/img/portraits/."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--chromium", default=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                            help="Chromium executable (default: $CHROMIUM_PATH or /usr/bin/chromium).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            rendered = portraits.render_portraits(chromium_path=options["chromium"])
        except ImportError as exc:
            raise CommandError(f"Playwright is needed (pip install -r requirements-dev.txt): {exc}") from exc
        portraits.PORTRAIT_DIR.mkdir(parents=True, exist_ok=True)
        for key, png in rendered.items():
            path = portraits.portrait_path(key)
            path.write_bytes(png)
            self.stdout.write(f"{path.relative_to(portraits.PORTRAIT_DIR.parents[2])}: {len(png)} bytes")
