"""`manage.py voice_worker`: run voice sessions (STT -> chat turn -> TTS) taken from Redis."""
from __future__ import annotations

import asyncio
import signal

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run a voice worker: takes voice sessions from Redis and joins them as a WebRTC peer."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--max-sessions", type=int, default=4)
        parser.add_argument("--loopback", action="store_true", help="also offer 127.0.0.1 ICE candidates (one-machine setups)")

    def handle(self, *args, **options) -> None:
        from chat.voice.rtc import allow_loopback_candidates
        from chat.voice.worker import VoiceWorker

        if options["loopback"]:
            allow_loopback_candidates()
        worker = VoiceWorker(max_sessions=options["max_sessions"])

        async def main() -> None:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, worker.stop)
            self.stdout.write(f"voice worker {worker.worker_id} ready ({options['max_sessions']} sessions)")
            await worker.run()

        asyncio.run(main())
