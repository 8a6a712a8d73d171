"""Animation clips baked into the avatar: idle, talk, wave.

Bone clips rotate the humanoid nodes (whose rest rotations are identity, so the same quaternions
work on three-vrm's normalized bones); face clips animate the head mesh's morph weights.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .head import EXPRESSIONS

CLIP_NAMES = ("idle", "talk", "wave")


def quat(axis: tuple[float, float, float], degrees: float) -> np.ndarray:
    a = np.asarray(axis, dtype=np.float64)
    a = a / np.linalg.norm(a)
    half = np.radians(degrees) / 2.0
    return np.array([*(a * np.sin(half)), np.cos(half)])


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array([
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    ])


@dataclass
class Clip:
    name: str
    times: np.ndarray  # shared key times (seconds)
    rotations: dict[str, np.ndarray] = field(default_factory=dict)  # bone -> (K, 4) quaternions
    weights: np.ndarray | None = None  # (K, len(EXPRESSIONS)) morph weights

    @property
    def duration(self) -> float:
        return float(self.times[-1])


def _arms_down(degrees: float = 68.0) -> dict[str, np.ndarray]:
    return {"leftUpperArm": quat((0, 0, 1), -degrees), "rightUpperArm": quat((0, 0, 1), degrees)}


def _weights(times: np.ndarray, **tracks: list[tuple[float, float]]) -> np.ndarray:
    """Piecewise-linear morph weights from (time, value) keys per expression name."""
    out = np.zeros((len(times), len(EXPRESSIONS)), dtype=np.float64)
    for name, keys in tracks.items():
        kt, kv = zip(*keys, strict=True)
        out[:, EXPRESSIONS.index(name)] = np.interp(times, kt, kv)
    return np.clip(out, 0.0, 1.0)


def idle_clip() -> Clip:
    times = np.linspace(0.0, 4.0, 17)
    phase = 2.0 * np.pi * times / 4.0
    down = _arms_down()
    rot = {
        "chest": np.array([quat((1, 0, 0), 1.5 * np.sin(p)) for p in phase]),
        "head": np.array([quat_mul(quat((0, 0, 1), 3.0 * np.sin(p)), quat((1, 0, 0), -1.0 * np.cos(p))) for p in phase]),
        "leftUpperArm": np.array([quat_mul(down["leftUpperArm"], quat((1, 0, 0), 2.0 * np.sin(p))) for p in phase]),
        "rightUpperArm": np.array([quat_mul(down["rightUpperArm"], quat((1, 0, 0), -2.0 * np.sin(p))) for p in phase]),
        "spine": np.array([quat((0, 1, 0), 2.0 * np.sin(p)) for p in phase]),
    }
    blink = [(0.0, 0.0), (2.4, 0.0), (2.5, 1.0), (2.6, 0.0), (4.0, 0.0)]
    return Clip("idle", times, rot, _weights(times, blink=blink))


def talk_clip() -> Clip:
    times = np.round(np.linspace(0.0, 3.0, 31), 4)
    phase = 2.0 * np.pi * times / 3.0
    down = _arms_down(64.0)
    rot = {
        "head": np.array([quat_mul(quat((1, 0, 0), 4.0 * np.sin(3 * p)), quat((0, 1, 0), 5.0 * np.sin(p))) for p in phase]),
        "chest": np.array([quat((0, 1, 0), 2.0 * np.sin(p)) for p in phase]),
        "leftUpperArm": np.array([quat_mul(down["leftUpperArm"], quat((0, 1, 0), 6.0 * np.sin(p))) for p in phase]),
        "rightUpperArm": np.array([quat_mul(down["rightUpperArm"], quat((0, 1, 0), -6.0 * np.sin(p))) for p in phase]),
        "leftLowerArm": np.array([quat((0, 1, 0), -15.0 - 10.0 * np.sin(2 * p)) for p in phase]),
        "rightLowerArm": np.array([quat((0, 1, 0), 15.0 + 10.0 * np.sin(2 * p)) for p in phase]),
    }
    # A spoken phrase: visemes in turn, a pause, then a blink.
    syllables = ["aa", "oh", "ih", "ee", "ou", "aa", "ih", "oh", "aa", "ee"]
    tracks: dict[str, list[tuple[float, float]]] = {}
    for k, name in enumerate(syllables):
        start = 0.1 + k * 0.22
        tracks.setdefault(name, [(0.0, 0.0)]).extend([(start, 0.0), (start + 0.1, 0.9), (start + 0.2, 0.0)])
    for keys in tracks.values():
        keys.append((3.0, 0.0))
    tracks["blink"] = [(0.0, 0.0), (2.6, 0.0), (2.7, 1.0), (2.8, 0.0), (3.0, 0.0)]
    tracks["happy"] = [(0.0, 0.2), (1.5, 0.35), (3.0, 0.2)]
    return Clip("talk", times, rot, _weights(times, **tracks))


def wave_clip() -> Clip:
    times = np.round(np.linspace(0.0, 2.0, 21), 4)
    phase = 2.0 * np.pi * times / 0.5  # four waves in two seconds
    down = _arms_down()
    raise_ = np.clip(times / 0.3, 0.0, 1.0) * np.clip((2.0 - times) / 0.3, 0.0, 1.0)
    rot = {
        "leftUpperArm": np.array([down["leftUpperArm"]] * len(times)),
        "rightUpperArm": np.array([quat_mul(quat((0, 0, 1), 68.0 - 103.0 * r), quat((1, 0, 0), -10.0 * r)) for r in raise_]),
        "rightLowerArm": np.array([quat((0, 0, 1), r * (-30.0 + 20.0 * np.sin(p))) for r, p in zip(raise_, phase, strict=True)]),
        "rightHand": np.array([quat((0, 0, 1), r * 15.0 * np.sin(p + 0.6)) for r, p in zip(raise_, phase, strict=True)]),
        "head": np.array([quat((0, 0, 1), -6.0 * r) for r in raise_]),
        "chest": np.array([quat((0, 0, 1), -3.0 * r) for r in raise_]),
    }
    happy = [(0.0, 0.0), (0.3, 1.0), (1.7, 1.0), (2.0, 0.0)]
    return Clip("wave", times, rot, _weights(times, happy=happy))


def all_clips() -> list[Clip]:
    return [idle_clip(), talk_clip(), wave_clip()]
