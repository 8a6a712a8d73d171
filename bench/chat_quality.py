"""Quality of chat replies on the embedded model (SmolLM2-135M through llama.cpp), through the real
turn engine (chat.turns: prompt, language rule, constrained emotion tag, loop detector).

    python -m bench.chat_quality [--wizard N]

A fixed set of 20 prompts: 6 emotional messages (3 English, 3 Korean), 2 persona questions (one
per language), 2 JSON answers (gateway.complete with a schema, one per language) and a 10-turn
role-play (8 English turns, 2 Korean). Then N character-wizard generations (alternating English
and Korean; default 2). Prints:

    FIGURE emotion_tag_ok_pct <v> %     chat replies whose raw text starts with a valid "[tag] "
    FIGURE json_ok_pct <v> %            JSON prompts answered with JSON that matches the schema
    FIGURE language_match_pct <v> %     chat replies written in the language of the user's message
                                        (Hangul vs Latin words, avatarforge.language)
    FIGURE loops_pct <v> %              chat replies the loop detector cut
    FIGURE wizard_ok_pct <v> %          wizard runs (step 1, as a person runs it) that produced a draft

Runs against a throw-away SQLite database and Redis (bench.servers.bench_environment) and starts
its own embedded model server on a free port. CPU heavy (minutes on 2 cores): run it with `nice`.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.stats import log

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# (language of the message, the character's language, message). Some go to a character of the
# other language: the reply must follow the person's language, not the character's.
EMOTION_PROMPTS = [
    ("en", "en", "I got a puppy today!"),
    ("en", "en", "My cat ran away this morning and I can't find her."),
    ("en", "ko", "You broke my favourite cup!"),
    ("ko", "ko", "오늘 강아지를 입양했어요!"),
    ("ko", "ko", "시험에 떨어져서 너무 슬퍼요."),
    ("ko", "en", "깜짝 선물을 받았어요! 누가 보냈는지 몰라요."),
]
PERSONA_PROMPTS = [
    ("en", "en", "Who are you, and what do you like to do on a rainy day?"),
    ("ko", "ko", "자기소개 좀 해 주세요. 무엇을 좋아해요?"),
]
JSON_PROMPTS = [
    ("en", "Your friend says: 'I finally finished my painting!' Answer as a cheerful friend."),
    ("ko", "친구가 '드디어 그림을 다 그렸어!'라고 말해요. 다정한 친구로서 대답하세요."),
]
JSON_SCHEMA = {
    "type": "object",
    "properties": {
        "emotion": {"type": "string", "enum": ["happy", "sad", "angry", "surprised", "neutral", "excited"]},
        "reply": {"type": "string", "maxLength": 200},
    },
    "required": ["emotion", "reply"],
}
ROLE_PLAY = [
    ("en", "The lanterns are all out. Do you know the way through the forest?"),
    ("en", "I hear something moving behind the trees. What should we do?"),
    ("en", "You're right, let's hide behind that rock. Are you scared?"),
    ("en", "It was just a deer! Ha. Where does this path lead?"),
    ("ko", "잠깐, 저기 작은 오두막이 보여요. 들어가 볼까요?"),
    ("en", "There is an old map on the table. Can you read it?"),
    ("en", "The map shows a river to the north. How far is it?"),
    ("ko", "배가 고파요. 먹을 것이 있을까요?"),
    ("en", "Thank you for the berries. Tell me about your home."),
    ("en", "The sun is rising. Shall we keep walking together?"),
]
WIZARD_NAMES = [("Mira", "en"), ("하늘", "ko"), ("Toby", "en"), ("서연", "ko")]


@dataclass
class ChatOutcome:
    expected_language: str
    raw: str
    text: str
    status: str
    cut: bool
    seconds: float


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_embedded(port: int) -> subprocess.Popen:
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    proc = subprocess.Popen([sys.executable, "-m", "inference.embedded_llm", "--port", str(port), "--threads", "2"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while True:  # llama.cpp's /health answers 503 while the model loads, 200 when ready
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                if response.status == 200:
                    return proc
        except (OSError, urllib.error.URLError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the embedded model server did not start (run scripts/setup.d/30-embedded-llm.sh)")
        time.sleep(0.2)


def make_world() -> dict:
    from accounts.models import Plan, User
    from characters.models import Character

    user = User.objects.create_user(email="quality@example.com", password="bench-password-9", plan=Plan.objects.get(code="free"),
                                    display_name="Jun")
    mina = Character.objects.create(
        owner=user, name="Mina", language="en", species="fox", personality="Cheerful, curious, a little shy; loves riddles.",
        likes="rainy days, tea, old maps", speech_style="Warm and playful, short sentences.",
        first_message="Hi {{user}}! I'm {{char}}.",
    )
    haneul = Character.objects.create(
        owner=user, name="하늘", language="ko", personality="차분하고 다정한 성격. 책과 별을 좋아한다.",
        speech_style="부드러운 존댓말", first_message="안녕하세요, {{user}}님. 저는 {{char}}예요.",
    )
    return {"user": user, "en": mina, "ko": haneul}


async def chat_turn(user, conversation_id, text: str, expected: str) -> ChatOutcome:
    from chat import turns

    started = time.monotonic()
    result = await turns.run_turn(turns.TurnRequest(user=user, conversation_id=conversation_id, text=text))
    reply = result.reply
    outcome = ChatOutcome(
        expected_language=expected, raw=result.raw_text, text=reply.text if reply else "", status=result.status,
        cut=bool(reply and reply.error_code == turns.REPLY_CUT_LOOP), seconds=time.monotonic() - started,
    )
    tokens = f"{reply.completion_tokens or 0:4d} tok, first after {(reply.ttft_ms or 0) / 1000:4.1f}s" if reply else ""
    log(f"  [{expected}] {outcome.seconds:5.1f}s {tokens} {outcome.status}{' CUT' if outcome.cut else ''}: {outcome.raw[:100]!r}")
    return outcome


async def run_chats(world: dict) -> list[ChatOutcome]:
    from channels.db import database_sync_to_async

    from chat import services

    new_conversation = database_sync_to_async(services.create_conversation)
    outcomes = []
    log("emotion and persona prompts:")
    for language, character_language, text in EMOTION_PROMPTS + PERSONA_PROMPTS:
        conversation = await new_conversation(user=world["user"], character_id=world[character_language].pk)
        outcomes.append(await chat_turn(world["user"], conversation.pk, text, language))
    log("10-turn role-play:")
    conversation = await new_conversation(user=world["user"], character_id=world["en"].pk,
                                          scenario={"situation": "Lost together in a dark forest at night."})
    for language, text in ROLE_PLAY:
        outcomes.append(await chat_turn(world["user"], conversation.pk, text, language))
    return outcomes


def run_json() -> list[bool]:
    from inference import llm

    results = []
    log("JSON prompts:")
    for language, text in JSON_PROMPTS:
        messages = [{"role": "system", "content": "Answer with the emotion you feel and a short reply, in the language of the message."},
                    {"role": "user", "content": text}]
        try:
            value = json.loads(llm.complete(model=None, messages=messages, json_schema=JSON_SCHEMA, max_tokens=200))
            ok = isinstance(value.get("reply"), str)
            log(f"  [{language}] ok: {value}")
        except llm.LLMError as exc:
            ok = False
            log(f"  [{language}] failed: {exc.code} {exc.details}")
        results.append(ok)
    return results


def run_wizard(user, n: int) -> list[bool]:
    """Step 1 of the wizard as a person runs it (services.start_wizard: validation, tries within
    the generation limit and the time budget)."""
    from avatarforge.errors import AppError
    from characters.personas import services, wizard

    results = []
    log("wizard:")
    for i in range(n):
        name, language = WIZARD_NAMES[i % len(WIZARD_NAMES)]
        started = time.monotonic()
        try:
            draft = services.start_wizard(owner=user, name=name, category="original", source_work="", language=language)
            ok = True
            sheet = {field: getattr(draft, field) for field in wizard.GENERATED_FIELDS}
            log(f"  [{language}] {time.monotonic() - started:5.1f}s ok: {json.dumps(sheet, ensure_ascii=False)[:300]}")
        except AppError as exc:
            ok = False
            log(f"  [{language}] {time.monotonic() - started:5.1f}s refused: {exc.code} {str(exc.details)[:200]}")
        results.append(ok)
    return results


def pct(flags: list[bool]) -> float:
    return 100.0 * sum(flags) / len(flags) if flags else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wizard", type=int, default=2, help="character wizard generations")
    args = parser.parse_args()

    port = _free_port()
    os.environ["EMBEDDED_LLM_PORT"] = str(port)
    for name in ("LLM_MODELS", "LLM_BASE_URL", "CHARACTER_WIZARD_MODEL"):
        os.environ.pop(name, None)
    from bench.servers import bench_environment

    server = start_embedded(port)
    try:
        with bench_environment(prefix="quality"):
            from avatarforge.language import detect_language
            from chat.emotions import EMOTION_PREFIX

            world = make_world()
            chats = asyncio.run(run_chats(world))
            json_results = run_json()
            wizard_results = run_wizard(world["user"], args.wizard)
    finally:
        server.terminate()
        server.wait(timeout=10)
    tags = [c.raw.startswith(EMOTION_PREFIX.options) for c in chats]
    languages = [detect_language(c.text) == c.expected_language for c in chats]
    loops = [c.cut for c in chats]
    log(f"{len(chats)} chat replies, {len(json_results)} JSON answers, {len(wizard_results)} wizard runs; "
        f"slowest reply {max(c.seconds for c in chats):.1f}s")
    print(f"FIGURE emotion_tag_ok_pct {pct(tags):.0f} %")
    print(f"FIGURE json_ok_pct {pct(json_results):.0f} %")
    print(f"FIGURE language_match_pct {pct(languages):.0f} %")
    print(f"FIGURE loops_pct {pct(loops):.0f} %")
    print(f"FIGURE wizard_ok_pct {pct(wizard_results):.0f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
