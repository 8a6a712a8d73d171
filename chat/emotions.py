"""Emotions of replies: how we ask for them, how we read them (defensively), default poses.

The model is asked to start each reply with a tag such as `[happy]`. Models do not always obey,
so `EmotionStreamParser` also understands `<happy>`, `(happy)`, `*happy*`, `Emotion: happy`,
Korean names, and a JSON answer `{"emotion": "...", "response": "..."}` — streamed, it extracts the
response text as it arrives. Anything it cannot read becomes `neutral`, never an error, and the
text is shown as it came.
"""
from __future__ import annotations

import json
import re

from inference.llm import ReplyPrefix, extract_json_object

EMOTIONS = ("happy", "sad", "angry", "surprised", "neutral", "excited")
NEUTRAL = "neutral"

# Where the model's endpoint can enforce it (inference.llm.constrain), a reply must start with
# one of these tags; no "[" may follow, so a small model cannot scatter more tags through the
# text. Elsewhere the instruction below asks for the tag and the parser reads what comes.
EMOTION_PREFIX = ReplyPrefix(options=tuple(f"[{emotion}] " for emotion in EMOTIONS), forbid="[")

_ALIASES = {
    "joy": "happy", "joyful": "happy", "glad": "happy", "smile": "happy", "smiling": "happy", "cheerful": "happy",
    "content": "happy", "pleased": "happy", "love": "happy", "laugh": "happy", "laughing": "happy",
    "sadness": "sad", "unhappy": "sad", "upset": "sad", "crying": "sad", "worried": "sad", "sorry": "sad",
    "anger": "angry", "mad": "angry", "annoyed": "angry", "furious": "angry", "irritated": "angry",
    "surprise": "surprised", "shocked": "surprised", "astonished": "surprised", "amazed": "surprised",
    "calm": "neutral", "normal": "neutral", "none": "neutral", "serious": "neutral", "thinking": "neutral",
    "excitement": "excited", "thrilled": "excited", "enthusiastic": "excited", "eager": "excited",
    "기쁨": "happy", "행복": "happy", "즐거움": "happy", "슬픔": "sad", "화남": "angry", "분노": "angry",
    "놀람": "surprised", "중립": "neutral", "평온": "neutral", "흥분": "excited", "신남": "excited",
}

# Appended to the system prompt of every chat request.
EMOTION_INSTRUCTION = (
    "Begin every reply with your current emotion as a tag in square brackets, exactly one of: "
    "[happy] [sad] [angry] [surprised] [neutral] [excited]. Then write your reply. "
    "Example: [happy] That sounds wonderful!"
)


def normalize_emotion(value: object) -> str | None:
    """A known emotion name, or None. Case, spaces and simple aliases are tolerated."""
    if not isinstance(value, str):
        return None
    key = value.strip().strip("\"'").lower()
    if key.startswith("emotion"):
        key = key[len("emotion"):].lstrip(" :=").strip()
    if key in EMOTIONS:
        return key
    return _ALIASES.get(key)


_OPEN_CLOSE = {"[": "]", "<": ">", "(": ")", "*": "*", "{": "}"}
_TAG_MAX = 32  # characters a leading tag may take before we give up and show it as text
_PREFIX_RE = re.compile(r"^\s*(?:emotion|감정)\s*[:=]\s*([^\n,.;!?]{1,24})\s*[\n,.;]?", re.IGNORECASE)
_JSON_TEXT_KEYS = ("response", "reply", "text", "message", "content", "answer")
_JSON_TEXT_START = re.compile(r'"(?:' + "|".join(_JSON_TEXT_KEYS) + r')"\s*:\s*"')
_JSON_EMOTION = re.compile(r'"emotion"\s*:\s*"([^"\\]{0,32})"')


class EmotionStreamParser:
    """Feed streamed text; get back the text to show and, as soon as known, the emotion.

    feed(delta) -> visible text (maybe empty while a leading tag is being read);
    finish() -> the remaining visible text; `emotion` is then final (neutral if unknown).
    """

    def __init__(self) -> None:
        self.emotion: str | None = None
        self.raw = ""  # everything fed, as the model wrote it (diagnostics, the quality bench)
        self._mode = "start"  # start -> tag | json | text
        self._buffer = ""
        self._shown = ""  # all visible text so far
        self._json_pos = -1  # where the JSON text value starts in the buffer
        self._json_done = False
        self._json_escape = ""  # an escape sequence cut by a chunk boundary

    @property
    def text(self) -> str:
        return self._shown

    def _emit(self, text: str) -> str:
        self._shown += text
        return text

    def feed(self, delta: str) -> str:
        if not delta:
            return ""
        self.raw += delta
        if self._mode == "text":
            return self._emit(delta)
        self._buffer += delta
        if self._mode == "json":
            return self._emit(self._json_progress())
        return self._emit(self._start_progress(final=False))

    def finish(self) -> str:
        out = ""
        if self._mode == "start":
            out = self._start_progress(final=True)
        elif self._mode == "json":
            out = self._json_progress()
            if not self._shown and not out:
                # Not streamable JSON after all: read it whole, or show the raw text.
                value = extract_json_object(self._buffer)
                if value is not None:
                    self.emotion = self.emotion or normalize_emotion(value.get("emotion"))
                    out = next((str(value[k]) for k in _JSON_TEXT_KEYS if isinstance(value.get(k), str)), "")
                if not out:
                    out = self._buffer
        if self.emotion is None:
            self.emotion = NEUTRAL
        return self._emit(out)

    # --- leading tag ----------------------------------------------------------------------------
    def _start_progress(self, *, final: bool) -> str:
        if self._mode == "text_after_tag":
            # A tag was read but no text yet: what follows is text, whatever it starts with.
            rest = re.sub(r"^\s*[:\-–—]?\s*", "", self._buffer)
            return self._to_text(rest) if rest else ""
        stripped = self._buffer.lstrip()
        if not stripped:
            return ""
        first = stripped[0]
        if first == "{":
            self._mode = "json"
            return self._json_progress()
        prefix = _PREFIX_RE.match(stripped)
        if prefix and (final or prefix.end() < len(stripped)):
            emotion = normalize_emotion(prefix.group(1))
            if emotion:
                self.emotion = emotion
                return self._to_text(stripped[prefix.end():].lstrip())
        closer = _OPEN_CLOSE.get(first)
        if closer and first != "{":
            end = stripped.find(closer, 1)
            if end == -1:
                if len(stripped) < _TAG_MAX and not final:
                    return ""  # keep reading the tag
                return self._to_text(stripped)
            emotion = normalize_emotion(stripped[1:end])
            if emotion is None:
                return self._to_text(stripped)
            self.emotion = emotion
            rest = stripped[end + 1:]
            # A second marker like "[happy]:" or "[happy] -" is not part of the reply.
            rest = re.sub(r"^\s*[:\-–—]\s*", "", rest, count=1).lstrip()
            if not rest and not final:
                self._buffer = ""
                self._mode = "text_after_tag"
                return ""
            return self._to_text(rest)
        if stripped.lower().startswith(("emotion", "감정")) and len(stripped) < _TAG_MAX and not final:
            return ""  # maybe "Emotion: happy" still arriving
        return self._to_text(stripped)

    def _to_text(self, text: str) -> str:
        self._mode = "text"
        self._buffer = ""
        return text

    # --- JSON answer ----------------------------------------------------------------------------
    def _json_progress(self) -> str:
        if self.emotion is None:
            found = _JSON_EMOTION.search(self._buffer)
            if found:
                self.emotion = normalize_emotion(found.group(1))
        if self._json_done:
            return ""
        if self._json_pos < 0:
            start = _JSON_TEXT_START.search(self._buffer)
            if not start:
                return ""
            self._json_pos = start.end()
        out: list[str] = []
        i = self._json_pos
        buf = self._buffer
        while i < len(buf):
            ch = buf[i]
            if ch == "\\":
                if i + 1 >= len(buf):
                    break
                nxt = buf[i + 1]
                if nxt == "u":
                    if i + 6 > len(buf):
                        break
                    try:
                        out.append(json.loads('"' + buf[i:i + 6] + '"'))
                    except json.JSONDecodeError:
                        out.append(buf[i:i + 6])
                    i += 6
                    continue
                out.append({"n": "\n", "t": "\t", "r": "", '"': '"', "\\": "\\", "/": "/", "b": "", "f": ""}.get(nxt, nxt))
                i += 2
                continue
            if ch == '"':
                self._json_done = True
                i += 1
                break
            out.append(ch)
            i += 1
        self._json_pos = i
        return "".join(out)


def parse_reply(text: str) -> tuple[str, str]:
    """A whole reply -> (emotion, visible text)."""
    parser = EmotionStreamParser()
    shown = parser.feed(text) + parser.finish()
    return parser.emotion or NEUTRAL, shown.strip()


# Default emotion -> avatar poses (seed: pose_mapping.json); the admin edits the EmotionPose rows,
# these fill any emotion missing from the table. Head angles in degrees: positive pitch looks
# down, positive yaw turns to the avatar's left, positive roll tilts toward its left shoulder.
DEFAULT_POSES: dict[str, dict[str, object]] = {
    "neutral": {"expressions": {}, "head": {"pitch": 0.0, "yaw": 0.0, "roll": 0.0}, "transition": 0.3, "transitions": {}},
    "happy": {"expressions": {"happy": 0.8, "relaxed": 0.2}, "head": {"pitch": -3.0, "yaw": 0.0, "roll": 4.0},
              "transition": 0.25, "transitions": {"head_roll": 0.4}},
    "sad": {"expressions": {"sad": 0.8}, "head": {"pitch": 9.0, "yaw": -3.0, "roll": -3.0}, "transition": 0.5, "transitions": {}},
    "angry": {"expressions": {"angry": 0.85}, "head": {"pitch": 5.0, "yaw": 0.0, "roll": 0.0}, "transition": 0.2, "transitions": {}},
    "surprised": {"expressions": {"surprised": 0.9}, "head": {"pitch": -7.0, "yaw": 0.0, "roll": 0.0},
                  "transition": 0.1, "transitions": {"head_pitch": 0.2}},
    "excited": {"expressions": {"happy": 1.0, "surprised": 0.3}, "head": {"pitch": -5.0, "yaw": 2.0, "roll": 6.0},
                "transition": 0.15, "transitions": {"head_roll": 0.3}},
}
