"""GPT-SoVITS `api_v2.py` (`POST /tts`): natural and cloned voices on a GPU.

Streams with `streaming_mode` and `media_type="wav"`: the server sends a WAV header first and
raw PCM after it. A cloned voice is a reference clip on the server (`ref_audio_path`) and its
transcript (`prompt_text`, `prompt_lang`). Errors come back as HTTP 400 with JSON {"message"}.
"""
from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from .audio import parse_wav_header
from .errors import EngineFailed, EngineUnavailable
from .tts import EnvelopeVisemes, TextToSpeech, even_bytes
from .types import SpeechChunk, Voice


class SovitsTts(TextToSpeech):
    name = "gpt-sovits"

    def __init__(self, *, base_url: str, timeout: float = 60.0, streaming_mode: int = 2) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.streaming_mode = streaming_mode  # 1 best quality .. 3 fastest (api_v2 semantics)

    @property
    def identity(self) -> str:
        return f"gpt-sovits:{self.base_url}"

    def request_body(self, text: str, voice: Voice, speed: float) -> dict:
        options = voice.options
        return {
            "text": text,
            "text_lang": voice.language,
            "ref_audio_path": options.get("ref_audio_path", ""),
            "prompt_text": options.get("prompt_text", ""),
            "prompt_lang": options.get("prompt_lang", voice.language),
            "text_split_method": "cut5",
            "batch_size": 1,
            "media_type": "wav",
            "streaming_mode": self.streaming_mode,
            "speed_factor": speed,
        }

    async def stream(self, text: str, *, voice: Voice, speed: float = 1.0) -> AsyncIterator[SpeechChunk]:
        envelope = EnvelopeVisemes(text)
        buffer, rate = bytearray(), 0
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                async with client.stream("POST", f"{self.base_url}/tts", json=self.request_body(text, voice, speed)) as response:
                    if response.status_code != 200:
                        body = (await response.aread())[:2000]
                        raise EngineFailed(
                            "GPT-SoVITS refused the request.",
                            details={"engine": self.name, "status": response.status_code, "message": _message(body)},
                        )
                    async for data in response.aiter_bytes():
                        buffer.extend(data)
                        if not rate:
                            try:
                                rate, channels, bits, offset = parse_wav_header(bytes(buffer))
                            except ValueError:
                                if len(buffer) > 4096:
                                    raise EngineFailed("GPT-SoVITS did not send WAV audio.") from None
                                continue
                            if channels != 1 or bits != 16:
                                raise EngineFailed("GPT-SoVITS sent audio in an unexpected format.")
                            del buffer[:offset]
                        pcm = even_bytes(buffer)
                        if pcm:
                            yield envelope.chunk(pcm, rate)
        except httpx.TransportError as exc:
            raise EngineUnavailable(f"GPT-SoVITS did not answer ({type(exc).__name__}).") from exc

    async def health(self) -> str:
        # api_v2 has no health route; any HTTP answer from /tts (400 without text) means it is up.
        try:
            async with httpx.AsyncClient(timeout=3) as client:
                await client.get(f"{self.base_url}/tts")
        except httpx.TransportError as exc:
            raise EngineUnavailable(f"GPT-SoVITS: {type(exc).__name__}") from exc
        return "gpt-sovits api_v2"


def _message(body: bytes) -> str:
    import json

    try:
        return str(json.loads(body).get("message", ""))[:300]
    except (ValueError, AttributeError):
        return ""
