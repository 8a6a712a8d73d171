"""An OpenAI-compatible speech server (`POST /v1/audio/speech`, streamed): many GPU TTS servers speak it.

Asks for `response_format="pcm"` (raw 24 kHz 16-bit mono, the API's documented PCM format) and
streams it in chunks; visemes come from the loudness envelope and the text's vowels.
"""
from __future__ import annotations

from collections.abc import AsyncIterator

from .errors import EngineFailed, EngineUnavailable
from .tts import EnvelopeVisemes, TextToSpeech, even_bytes
from .types import SpeechChunk, Voice

PCM_RATE = 24000
CHUNK_BYTES = 4800  # 100 ms


class OpenAiTts(TextToSpeech):
    name = "openai"

    def __init__(self, *, base_url: str, api_key: str, model: str, timeout: float = 30.0) -> None:
        from .clients import PerLoopOpenAi

        self.model = model
        self.base_url = base_url
        self.clients = PerLoopOpenAi(base_url=base_url, api_key=api_key, timeout=timeout)

    @property
    def identity(self) -> str:
        return f"openai:{self.base_url}:{self.model}"

    async def stream(self, text: str, *, voice: Voice, speed: float = 1.0) -> AsyncIterator[SpeechChunk]:
        import openai

        envelope = EnvelopeVisemes(text)
        buffer = bytearray()
        try:
            async with self.clients.get().audio.speech.with_streaming_response.create(
                model=self.model, voice=voice.engine_voice or voice.id, input=text, response_format="pcm", speed=speed,
            ) as response:
                async for data in response.iter_bytes(CHUNK_BYTES):
                    buffer.extend(data)
                    pcm = even_bytes(buffer)
                    if pcm:
                        yield envelope.chunk(pcm, PCM_RATE)
        except (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError) as exc:
            raise EngineUnavailable(f"The speech server did not answer ({type(exc).__name__}).") from exc
        except openai.APIStatusError as exc:
            raise EngineFailed(f"The speech server refused the request (HTTP {exc.status_code}).", details={"engine": self.name}) from exc

    async def health(self) -> str:
        import openai

        try:
            await self.clients.get().models.list()
        except openai.APIError as exc:
            raise EngineUnavailable(f"speech server: {type(exc).__name__}") from exc
        return f"openai-compatible ({self.model})"
