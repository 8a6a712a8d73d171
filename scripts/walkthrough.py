"""A new user's walkthrough of AvatarForge in headless Chromium, rerunnable.

    .venv/bin/python scripts/walkthrough.py [--out test-artifacts/walkthrough] [--only en-1280,ko-390]

Starts its own server (tests/browser/harness.py) with the fake OpenAI-compatible model, signs up
through the real form, uploads the shared VRM fixtures, makes an actor, a character, a chat
(one message), a room, a generation job (a face photo cut from the fake camera) and a live
session by real clicks; then visits every main page at desktop (1280x860) and phone (390x844)
width in English and Korean, saving a full-page screenshot of each and printing what it measured:
page errors, horizontal overflow, and main headings on Korean pages with no Korean in them.
Last, two browsers join one call. Writes report.json next to the screenshots.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import harness  # noqa: E402
from tests.support.fake_openai import FakeOpenAI, Reply  # noqa: E402

EMAIL = "newbie@example.com"
FRIEND = "friend@example.com"
SIZES = {"1280": {"width": 1280, "height": 860}, "390": {"width": 390, "height": 844}}
HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Words that stay English in Korean (names, brands, formats).
KEEP = re.compile(r"AvatarForge|VRM|GLB|API|OBS|Chzzk|Godette|debug_robot|sphere|Mina|newbie|friend|Walk|AI", re.I)

OVERFLOW_JS = """() => {
  const w = window.innerWidth, doc = document.documentElement.scrollWidth;
  const wide = [];
  if (doc > w) {
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.right > w + 1 && r.width > 0 && getComputedStyle(el).position !== 'fixed') {
        wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                  (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
                  ' right=' + Math.round(r.right));
        if (wide.length >= 8) break;
      }
    }
  }
  return {innerWidth: w, scrollWidth: doc, wide};
}"""

HEADINGS_JS = """() => Array.from(document.querySelectorAll('main h1, main h2, main legend, main th, main button, main label'))
  .filter(el => el.offsetParent !== null).map(el => el.innerText.trim()).filter(Boolean)"""


def untranslated(texts: list[str]) -> list[str]:
    """Visible strings with English words and no Korean (names and brands aside)."""
    out = []
    for t in texts:
        if HANGUL.search(t):
            continue
        rest = KEEP.sub("", t)
        if re.search(r"[A-Za-z]{3,}", rest):
            out.append(t[:80])
    return out


class Walk:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.out.mkdir(parents=True, exist_ok=True)
        self.report: dict[str, dict] = {}

    def check(self, page, name: str, tag: str, errors: list[str], *, full_page: bool = True) -> dict:
        page.wait_for_timeout(600)  # let scripts lay the page out
        path = self.out / f"{name}-{tag}.png"
        page.screenshot(path=str(path), full_page=full_page)
        info = {"url": page.url, "screenshot": str(path.relative_to(ROOT)), "errors": list(errors)}
        info["overflow"] = page.evaluate(OVERFLOW_JS)
        if tag.startswith("ko"):
            info["english"] = untranslated(page.evaluate(HEADINGS_JS))
        self.report[f"{name}-{tag}"] = info
        errors.clear()
        flags = []
        if info["errors"]:
            flags.append(f"ERRORS {info['errors']}")
        if info["overflow"]["scrollWidth"] > info["overflow"]["innerWidth"]:
            flags.append(f"OVERFLOW {info['overflow']}")
        if info.get("english"):
            flags.append(f"EN {info['english'][:6]}")
        print(f"{name}-{tag}: {page.url} {' | '.join(flags) or 'ok'}", flush=True)
        return info


def new_context(browser, base_url: str, lang: str, size: str):
    ctx = browser.new_context(viewport=SIZES[size], locale="ko-KR" if lang == "ko" else "en-US")
    ctx.set_default_timeout(45_000)
    ctx.add_cookies([{"name": "django_language", "value": lang, "url": base_url}])
    return ctx


def watch(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)[:300]))
    return errors


def setup_flow(walk: Walk, browser, server, fake) -> dict:
    """What a new user does first, by real clicks, in English at desktop width."""
    base = server.base_url
    urls: dict[str, str] = {}
    ctx = new_context(browser, base, "en", "1280")
    page = ctx.new_page()
    errors = watch(page)
    page.goto(f"{base}/accounts/signup/")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=display_name]", "Newbie")
    page.fill("input[name=password1]", harness.PASSWORD)
    page.fill("input[name=password2]", harness.PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    walk.check(page, "after-signup", "en-1280", errors)

    page.goto(f"{base}/accounts/profile/")
    page.fill("input[name=name]", "My laptop")
    with page.expect_navigation():
        page.click("form[action$='/accounts/tokens/'] button[type=submit]")
    walk.check(page, "profile-token-created", "en-1280", errors)

    # Avatar library: the real upload form (declarations first, then choose files).
    page.goto(f"{base}/avatars/")
    page.check("input[name=owner_is_author]")
    page.set_input_files("#avatar-file", [str(p) for p in sorted((harness.FIXTURES / "vrm").glob("*.vrm"))])
    page.wait_for_function("() => document.querySelectorAll('#avatar-upload-results li').length >= 3")
    page.wait_for_timeout(8000)
    walk.check(page, "avatar-upload-results", "en-1280", errors)
    page.goto(f"{base}/avatars/")
    page.click(".av-card a >> nth=0")
    page.wait_for_load_state()
    urls["avatar_detail"] = page.url
    # Actors: make one from the first avatar.
    page.goto(f"{base}/avatars/actors/")
    page.fill("#actor-name", "Walk actor")
    with page.expect_navigation():
        page.click("form.inline-form button[type=submit]")
    walk.check(page, "actor-created", "en-1280", errors)
    if "/avatars/actors/" in page.url and page.url.rstrip("/").split("/")[-1].isdigit():
        urls["actor_edit"] = page.url
    else:
        href = page.get_attribute("a[href*='/avatars/actors/'][href$='/']:not([href$='/actors/'])", "href")
        urls["actor_edit"] = base + href

    # A character by hand.
    page.goto(f"{base}/characters/new/manual/")
    page.fill("input[name=name]", "Mina")
    if page.locator("textarea[name=first_message]").count():
        page.fill("textarea[name=first_message]", "Hi {{user}}! Nice to meet you.")
    with page.expect_navigation():
        page.click("main form button[type=submit] >> nth=-1")
    walk.check(page, "character-created", "en-1280", errors)
    urls["character_detail"] = page.url
    # Talk to it.
    with page.expect_navigation():
        page.click("main a.button:has-text('Talk')")
    walk.check(page, "chat-start", "en-1280", errors)
    urls["chat_start"] = page.url
    with page.expect_navigation():
        page.click("form[action$='/chat/start/'] button[type=submit]")
    page.wait_for_function("() => window.__chatPage && window.__chatPage.ready")
    urls["chat"] = page.url
    fake.default = Reply("[happy] Hello! I am Mina. It is lovely to meet you here.", token_rate=40)
    page.fill("[data-chat-input]", "Hello Mina, who are you?")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('.chat-log .msg-assistant').length >= 2")
    page.wait_for_selector("[data-chat-stop]", state="hidden")
    walk.check(page, "chat-after-reply", "en-1280", errors)

    # A room.
    page.goto(f"{base}/rooms/")
    page.fill("#room-title", "Walk room")
    with page.expect_navigation():
        page.click("form[action$='/rooms/new'] button[type=submit]")
    urls["lobby"] = page.url
    urls["room_code"] = page.url.rstrip("/").split("/")[-2]

    # Generation: a face photo cut from the fake camera.
    photo = Path(tempfile.mkdtemp()) / "face.jpg"
    data = harness.FACE_MJPEG.read_bytes()
    start = data.find(b"\xff\xd8")
    photo.write_bytes(data[start:data.find(b"\xff\xd9", start) + 2])
    page.goto(f"{base}/generate/")
    page.set_input_files("#gen-image", str(photo))
    page.fill("#gen-name", "Walk chibi")
    page.wait_for_timeout(1500)
    walk.check(page, "generate-photo-chosen", "en-1280", errors)
    with page.expect_navigation():
        page.click("#gen-submit")
    page.wait_for_timeout(3000)
    walk.check(page, "generate-submitted", "en-1280", errors)
    if "/generate/" in page.url and page.url.rstrip("/") != f"{base}/generate":
        urls["generate_job"] = page.url

    # Live mode: a test-chat session.
    page.goto(f"{base}/live/")
    page.fill("#live-title", "Walk stream")
    with page.expect_navigation():
        page.click("form.live-create button[type=submit]")
    urls["live_session"] = page.url
    overlay = page.locator("a[href*='/live/overlay/'], input[value*='/live/overlay/'], code:has-text('/live/overlay/')")
    if overlay.count():
        el = overlay.first
        urls["live_overlay"] = el.get_attribute("href") or el.get_attribute("value") or el.inner_text()
    walk.check(page, "live-session-created", "en-1280", errors)
    ctx.close()
    return urls


def visit_all(walk: Walk, browser, server, urls: dict, lang: str, size: str) -> None:
    base = server.base_url
    tag = f"{lang}-{size}"
    ctx = new_context(browser, base, lang, size)
    page = ctx.new_page()
    errors = watch(page)
    for name, path in (("signup", "/accounts/signup/"), ("login", "/accounts/login/"), ("home-anon", "/"),
                       ("admin-login", "/admin/login/")):
        page.goto(base + path)
        walk.check(page, name, tag, errors)
    if size == "390":
        page.goto(base + "/")
        page.click("label.nav-burger")
        walk.check(page, "menu-open-anon", tag, errors, full_page=False)
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", EMAIL)
    page.fill("input[name=password]", harness.PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    pages = [
        ("home", "/"), ("profile", "/accounts/profile/"), ("avatars", "/avatars/"), ("avatars-shared", "/avatars/?tab=shared"),
        ("avatar-detail", urls["avatar_detail"]), ("actors", "/avatars/actors/"), ("actor-edit", urls["actor_edit"]),
        ("rooms", "/rooms/"), ("lobby", urls["lobby"]), ("stream", "/rooms/stream/"),
        ("characters", "/characters/"), ("character-wizard", "/characters/new/"), ("character-create", "/characters/new/manual/"),
        ("character-import", "/characters/import/"), ("character-detail", urls["character_detail"]),
        ("chat-home", "/chat/"), ("chat-start", urls["chat_start"]), ("chat", urls["chat"]), ("generate", "/generate/"), ("generate-job", urls.get("generate_job")),
        ("live", "/live/"), ("live-session", urls["live_session"]), ("overlay", urls.get("live_overlay")),
        ("not-found", "/no-such-page/"),
    ]
    for name, url in pages:
        if not url:
            continue
        page.goto(url if url.startswith("http") else base + url)
        if name == "chat":
            page.wait_for_function("() => window.__chatPage && window.__chatPage.ready")
        walk.check(page, name, tag, errors)
        if name == "chat":
            talk = page.locator("[data-voice-talk]")
            walk.report[f"chat-{tag}"]["talk"] = {
                "visible": talk.is_visible(), "disabled": talk.is_disabled(), "text": talk.inner_text() if talk.count() else None,
                "notice": page.inner_text("[data-voice-notice]") if page.locator("[data-voice-notice]").count() else None,
            }
            if talk.is_visible() and not talk.is_disabled():
                talk.click()
                page.wait_for_timeout(8000)  # long enough for the voice socket to answer or give up
                walk.check(page, "chat-talk-clicked", tag, errors, full_page=False)
                walk.report[f"chat-talk-clicked-{tag}"]["notice"] = page.inner_text("[data-voice-notice]")
        if size == "390" and name == "home":
            page.click("label.nav-burger")
            walk.check(page, "menu-open", tag, errors, full_page=False)
    ctx.close()


def call_flow(walk: Walk, playwright, server, urls: dict) -> None:
    base, code = server.base_url, urls["room_code"]
    server.create_users([FRIEND])
    b1 = harness.launch_chromium(playwright)
    b2 = harness.launch_chromium(playwright)
    try:
        c1 = new_context(b1, base, "en", "1280")
        c2 = new_context(b2, base, "ko", "390")
        a = harness.login(c1, base, EMAIL)
        b = harness.login(c2, base, FRIEND)
        ea, eb = watch(a), watch(b)
        harness.enter_call(a, base, code)
        harness.join_by_code(b, base, code)
        walk.check(b, "lobby-guest", "ko-390", eb)
        harness.enter_call(b, base, code)
        for p in (a, b):
            p.wait_for_function("() => window.__afStats.state === 'connected'", timeout=60_000)
        a.wait_for_timeout(4000)
        walk.check(a, "call", "en-1280", ea, full_page=False)
        walk.check(b, "call", "ko-390", eb, full_page=False)
        a.set_viewport_size(SIZES["390"])
        b.set_viewport_size(SIZES["1280"])
        a.wait_for_timeout(1500)
        walk.check(a, "call", "en-390", ea, full_page=False)
        walk.check(b, "call", "ko-1280", eb, full_page=False)
    finally:
        b2.close()
        b1.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(harness.ARTIFACTS / "walkthrough"))
    ap.add_argument("--only", default="en-1280,en-390,ko-1280,ko-390")
    ap.add_argument("--no-call", action="store_true")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    walk = Walk(Path(args.out).resolve())
    fake = FakeOpenAI(models=("fake-model",)).start()
    fake.default = Reply("[happy] Hello there!", token_rate=40)
    server = harness.LiveServer()
    server.env["LLM_MODELS"] = json.dumps([fake.model_config("fake", label="Fake model")])
    server.env["CHANNEL_PREFIX"] = server.env["CHANNEL_PREFIX"] + "_walk"
    server.start()
    print(f"server {server.base_url} log {server.log_path}", flush=True)
    try:
        with sync_playwright() as p:
            browser = harness.launch_chromium(p)
            try:
                urls = setup_flow(walk, browser, server, fake)
                print(json.dumps(urls, indent=1), flush=True)
                for combo in args.only.split(","):
                    lang, size = combo.split("-")
                    visit_all(walk, browser, server, urls, lang, size)
            finally:
                browser.close()
            if not args.no_call:
                call_flow(walk, p, server, urls)
    finally:
        (walk.out / "report.json").write_text(json.dumps(walk.report, indent=1, ensure_ascii=False))
        server.stop()
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
