"""espeak-ng (GPL-3.0, a Debian package) as the embedded Korean voice: the `espeak-ng` binary in its
own process, WAV on stdout. Robotic (a formant synthesizer), and labelled so; first bytes in ~10 ms.
"""
from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator

from .audio import parse_wav_header
from .errors import EngineFailed, EngineUnavailable
from .tts import EnvelopeVisemes, TextToSpeech, even_bytes
from .types import SpeechChunk, Voice

BASE_WPM = 160  # espeak-ng's words per minute at speed 1.0
READ_BYTES = 4410  # ~100 ms at 22 kHz: small chunks keep the first audio early


class EspeakTts(TextToSpeech):
    name = "espeak-ng"

    def __init__(self, *, binary: str = "espeak-ng") -> None:
        self.binary = binary

    async def stream(self, text: str, *, voice: Voice, speed: float = 1.0) -> AsyncIterator[SpeechChunk]:
        path = shutil.which(self.binary)
        if path is None:
            raise EngineUnavailable("espeak-ng is not installed (apt-get install espeak-ng).")
        # The text goes on stdin, never on the command line (no option injection, no length limit).
        process = await asyncio.create_subprocess_exec(
            path, "-v", voice.engine_voice or voice.language, "-s", str(round(BASE_WPM * speed)), "--stdout",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            process.stdin.write(text.encode("utf-8") + b"\n")
            await process.stdin.drain()
            process.stdin.close()
            header = bytearray()
            rate = 0
            envelope = EnvelopeVisemes(text)
            while True:
                data = await process.stdout.read(READ_BYTES)
                if not data:
                    break
                header.extend(data)
                if not rate:
                    try:
                        rate, _channels, _bits, offset = parse_wav_header(bytes(header))
                    except ValueError:
                        continue
                    del header[:offset]
                pcm = even_bytes(header)
                if pcm:
                    yield envelope.chunk(pcm, rate)
            if await process.wait() != 0 or not rate:
                raise EngineFailed("espeak-ng could not synthesize this text.")
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

    async def health(self) -> str:
        if shutil.which(self.binary) is None:
            raise EngineUnavailable("espeak-ng binary not found")
        return "espeak-ng (embedded, robotic)"
