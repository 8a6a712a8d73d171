"""PCM helpers: conversions, resampling, WAV containers (no third-party audio library needed)."""
from __future__ import annotations

import io
import struct
import wave

import numpy as np


def pcm16_to_float(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Linear-interpolation resampling: good enough for speech going into Whisper or out to WebRTC."""
    if src_rate == dst_rate or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    count = int(round(samples.size * dst_rate / src_rate))
    positions = np.arange(count, dtype=np.float64) * (src_rate / dst_rate)
    return np.interp(positions, np.arange(samples.size), samples).astype(np.float32)


def wav_bytes(pcm: bytes, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def streaming_wav_header(sample_rate: int) -> bytes:
    """A WAV header for audio of unknown length (sizes set to the maximum, as streaming servers do)."""
    data_size = 0xFFFFFFFF - 36
    return (
        b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE"
        + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
        + b"data" + struct.pack("<I", data_size)
    )


def parse_wav_header(data: bytes) -> tuple[int, int, int, int]:
    """(sample_rate, channels, bits, offset of the PCM) from the start of a WAV stream.

    Walks the chunks because servers add LIST/fact chunks before `data`. Raises ValueError
    when the bytes are not a PCM WAV or the header is not complete yet.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV stream")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk_id, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if chunk_id == b"fmt ":
            if pos + 8 + 16 > len(data):
                break
            audio_format, channels, rate, _byte_rate, _align, bits = struct.unpack("<HHIIHH", data[pos + 8:pos + 24])
            if audio_format not in (1, 0xFFFE):
                raise ValueError("WAV is not PCM")
            fmt = (rate, channels, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise ValueError("WAV data before fmt")
            return (*fmt, pos + 8)
        pos += 8 + size + (size & 1)
    raise ValueError("incomplete WAV header")


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Mono float32 samples and the rate of a 16-bit PCM WAV file (stereo is mixed down)."""
    rate, channels, bits, offset = parse_wav_header(data)
    if bits != 16:
        raise ValueError("only 16-bit WAV is supported")
    samples = pcm16_to_float(data[offset:offset + (len(data) - offset) // 2 * 2])
    if channels > 1:
        samples = samples[: samples.size // channels * channels].reshape(-1, channels).mean(axis=1)
    return samples, rate
