"""The character's face follows its voice's playout: the viseme due at the point the clause's
audio has been read out to, rest when nothing plays, the reply's emotion as an expression."""
from __future__ import annotations

from calls.face import FaceDriver
from chat.voice.playout import FRAME_BYTES, RATE, Clause, Playout
from rooms.protocol import BLENDSHAPE_NAMES

JAW = BLENDSHAPE_NAMES.index("jawOpen")
PUCKER = BLENDSHAPE_NAMES.index("mouthPucker")
SMILE = BLENDSHAPE_NAMES.index("mouthSmileLeft")


def clause(ms: int, visemes: list[dict]) -> Clause:
    pcm = b"\x10\x00" * (RATE * ms // 1000)
    return Clause(text="hello", pcm=pcm, events=[{"type": "visemes", "visemes": visemes, "duration_ms": ms}])


def settle(face: FaceDriver, frames: int = 10):
    for _ in range(frames):
        frame = face.frame()
    return frame


def test_the_mouth_shows_the_viseme_at_the_read_position_and_rests_in_silence():
    playout = Playout()
    face = FaceDriver(playout)
    assert settle(face).blendshapes[JAW] < 0.09  # idle: breathing only
    playout.push(clause(400, [{"start_ms": 0, "end_ms": 200, "viseme": "aa", "weight": 1.0},
                              {"start_ms": 200, "end_ms": 400, "viseme": "ou", "weight": 1.0}]))
    assert settle(face).blendshapes[JAW] < 0.09  # queued but not started: still silent
    playout.read()  # the first 20 ms leave: "aa"
    frame = settle(face)
    assert frame.blendshapes[JAW] > 0.6 and frame.speaking
    for _ in range(10):  # 220 ms read: "ou"
        playout.read()
    frame = settle(face)
    assert frame.blendshapes[PUCKER] > 0.55 and frame.blendshapes[JAW] < 0.3
    while playout.playing:
        playout.read()
    frame = settle(face)
    assert frame.blendshapes[JAW] < 0.09 and frame.blendshapes[PUCKER] < 0.01 and not frame.speaking


def test_a_burst_of_reading_moves_the_mouth_with_the_audio_not_the_clock():
    """However fast the audio is read (an audio track catching up), the mouth is where the audio is."""
    playout = Playout()
    face = FaceDriver(playout)
    playout.push(clause(1000, [{"start_ms": 0, "end_ms": 900, "viseme": "aa", "weight": 1.0},
                               {"start_ms": 900, "end_ms": 1000, "viseme": "silence", "weight": 0.0}]))
    for _ in range(46):  # 920 ms read at once
        playout.read()
    assert settle(face).blendshapes[JAW] < 0.09


def test_a_flush_closes_the_mouth_and_the_emotion_shows_while_speaking():
    playout = Playout()
    face = FaceDriver(playout)
    face.on_event({"type": "emotion", "emotion": "happy"})
    playout.push(clause(400, [{"start_ms": 0, "end_ms": 400, "viseme": "aa", "weight": 0.5}]))
    playout.read()
    frame = settle(face)
    assert 0.3 < frame.blendshapes[JAW] < 0.4  # the weight scales the shape
    assert frame.blendshapes[SMILE] >= 0.59
    playout.flush()  # barge-in
    assert settle(face).blendshapes[JAW] < 0.09


def test_unknown_emotions_and_visemes_are_ignored():
    playout = Playout()
    face = FaceDriver(playout)
    face.on_event({"type": "emotion", "emotion": "<script>"})
    assert face.emotion == "neutral"
    playout.push(clause(100, [{"start_ms": 0, "end_ms": 100, "viseme": "zz"}, {"bad": 1}]))
    playout.read()
    assert settle(face).blendshapes[JAW] < 0.09
    assert len(face.next()) == 72 and FRAME_BYTES == 1920
