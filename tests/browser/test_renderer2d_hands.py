"""The 2D renderer's hands, in Chromium's real canvas (issue 18, item 4: "the 2D renderer shows
hands as simple layered hands in front of the body when raised"). The page (fixtures/
renderer2d_hands.mjs, bundled here with esbuild) draws the fox with body sections that the real
solver made from landmarks of known arm angles; the test compares the pixels drawn:

- arms down: the picture is pixel for pixel the face-only avatar (no hands drawn);
- the left hand raised: new pixels on the viewer's right (the avatar's left) above the shoulders,
  in the hand's colours, some of them over the head (layered in front of it);
- the right hand raised: the same on the viewer's left;
- a fist draws a smaller hand than an open hand (the fingers shorten with their curl)."""
from __future__ import annotations

import subprocess

from . import harness

ENTRY = harness.ROOT / "tests" / "browser" / "fixtures" / "renderer2d_hands.mjs"
ESBUILD = harness.ROOT / "node_modules" / ".bin" / "esbuild"
SIZE = 240


def _bundle() -> str:
    out = subprocess.run(
        [str(ESBUILD), str(ENTRY), "--bundle", "--format=iife", "--log-level=error"],
        check=True, capture_output=True, text=True, cwd=harness.ROOT,
    )
    return out.stdout


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))


def _near(px: tuple[int, int, int], colour: tuple[int, int, int], tol: int = 6) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(px, colour, strict=True))


def _pixels(frame: dict) -> list[tuple[int, int, int]]:
    p = frame["pixels"]
    return [(p[i], p[i + 1], p[i + 2]) for i in range(0, len(p), 4)]


def _changed(a: list, b: list) -> list[int]:
    """Indices of pixels that differ by more than antialiasing noise."""
    return [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if max(abs(x[k] - y[k]) for k in range(3)) > 8]


def test_2d_hands_are_drawn_in_front_only_when_raised(af_server, playwright_driver, artifacts):
    browser = harness.launch_chromium(playwright_driver)
    try:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.set_content(f'<canvas id="c" width="{SIZE}" height="{SIZE}"></canvas>')
        page.add_script_tag(content=_bundle())
        draw = {name: page.evaluate("(n) => window.__draw(n)", name)
                for name in ("none", "down", "leftUp", "rightUp", "leftUpOpen", "leftUpFist")}
        palette = page.evaluate("() => window.__palette")
        page.evaluate("() => window.__draw('leftUpOpen')")
        page.locator("#c").screenshot(path=str(artifacts / "renderer2d_hand_raised.png"))
        frames = {name: _pixels(f) for name, f in draw.items()}
        hand_colours = [_rgb(palette["body"]), _rgb(palette["bodyShade"])]
        bg_top, bg_bottom = _rgb(palette["bg"][0]), _rgb(palette["bg"][1])

        def background(i: int) -> tuple[int, int, int]:
            """The background gradient's colour at pixel i's row (top to bottom)."""
            t = (i // SIZE + 0.5) / SIZE
            return tuple(round(a + (b - a) * t) for a, b in zip(bg_top, bg_bottom, strict=True))
        shoulder_row = SIZE * 0.5 + SIZE * 0.25 * 1.15  # the renderer's shoulder line

        # Lowered: nothing of the hands is drawn.
        assert draw["down"]["hands"]["left"]["raised"] is False
        assert _changed(frames["none"], frames["down"]) == []

        for name, side in (("leftUp", "left"), ("rightUp", "right")):
            assert draw[name]["hands"][side]["raised"] is True
            changed = _changed(frames["none"], frames[name])
            assert len(changed) > 200, (name, len(changed))
            xs = [i % SIZE for i in changed]
            ys = [i // SIZE for i in changed]
            # The avatar's left is the viewer's right (the avatar faces us).
            if side == "left":
                assert min(xs) > SIZE / 2, (name, min(xs))
            else:
                assert max(xs) < SIZE / 2, (name, max(xs))
            assert max(ys) < shoulder_row, (name, max(ys), shoulder_row)
            # Drawn in the hand's colours, and over the head: layered in front of it.
            in_hand_colours = [i for i in changed if any(_near(frames[name][i], c) for c in hand_colours)]
            assert len(in_hand_colours) > 0.6 * len(changed), (name, len(in_hand_colours), len(changed))
            over_avatar = [i for i in in_hand_colours if not _near(frames["none"][i], background(i), 10)]
            assert len(over_avatar) > 50, (name, len(over_avatar))

        # Fingers: an open hand covers more than a fist with the same arm.
        open_px = len(_changed(frames["none"], frames["leftUpOpen"]))
        fist_px = len(_changed(frames["none"], frames["leftUpFist"]))
        assert draw["leftUpFist"]["hands"]["left"]["tracked"] is True
        assert fist_px < 0.85 * open_px, (fist_px, open_px)
        assert errors == []
    finally:
        browser.close()
