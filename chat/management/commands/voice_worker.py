"""`manage.py voice_worker`: run voice sessions (STT -> chat turn -> TTS) taken from Redis."""
from __future__ import annotations

import asyncio
import logging
import signal
import time

from django.core.management.base import BaseCommand

logger = logging.getLogger(__name__)


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
            # Sessions are taken at once; the models load beside them (a session that comes
            # first waits for the model it needs, as it would have anyway).
            warming = asyncio.ensure_future(asyncio.to_thread(_warm))
            try:
                await worker.run()
            finally:
                warming.cancel()

        asyncio.run(main())


def _warm() -> None:
    from inference.speech import config as speech_config

    started = time.monotonic()
    try:
        speech_config.warm_engines()
    except Exception:  # a missing model is reported by the session that needs it
        logger.warning("voice engines could not be warmed", exc_info=True)
        return
    logger.info("voice engines warm in %.1f s", time.monotonic() - started)
