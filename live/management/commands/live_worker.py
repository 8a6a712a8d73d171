"""`manage.py live_worker`: run live sessions (one stream-chat connection each), leased in Redis."""
from __future__ import annotations

import asyncio
import logging
import signal

from django.core.management.base import BaseCommand

from live.wiring import intake_for, responder_for
from live.worker import LiveWorker


class Command(BaseCommand):
    help = "Run the AI VTuber live worker (start more on any host to scale)."

    def handle(self, *args, **options) -> None:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s live-worker %(levelname)s %(message)s")

        async def main() -> None:
            worker = LiveWorker(responder_for=responder_for, intake_for=intake_for)
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, worker.stopping.set)
            await worker.run()

        asyncio.run(main())
