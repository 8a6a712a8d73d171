"""avatar_peer argument handling (the network side is covered in test_e2e.py)."""
from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://host/rooms/abc/"], r"room's http\(s\) link"),
        (["http://host/rooms/abcdefghjk/"], "needs --token"),
        (["http://host/somewhere/"], "neither a room link"),
        (["http://host/rooms/abcdefghjk/", "--token", "af_x", "--duration", "0"], "--duration"),
        (["http://host/rooms/abcdefghjk/", "--token", "af_x", "--rate", "500"], "--rate"),
    ],
)
def test_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("avatar_peer", *args)


def test_bad_frames_file(tmp_path):
    frames = tmp_path / "frames.txt"
    frames.write_text("0102\n", encoding="utf-8")
    with pytest.raises(CommandError, match="not a frame"):
        call_command("avatar_peer", "http://127.0.0.1:9/rooms/abcdefghjk/", "--token", "af_x", "--frames", str(frames))
