"""A crashing avatar checker must not put the server's stack trace into the job's error."""
from __future__ import annotations

import sys

import pytest

from generation.stages import validate
from generation.stages.base import StageError


def test_checker_crash_keeps_stderr_out_of_the_error(tmp_path, monkeypatch, caplog):
    script = tmp_path / "node"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "sys.stderr.write('Error: Cannot find module /srv/avatarforge/node_modules/gltf-validator\\n"
        "    at Module._resolveFilename (node:internal/modules/cjs/loader:1145:15)\\n')\n"
        "sys.exit(1)\n"
    )
    script.chmod(0o755)
    monkeypatch.setattr(validate, "setting", lambda name: str(script) if name == "GENERATION_NODE" else None)
    with caplog.at_level("WARNING", logger="generation.stages.validate"), pytest.raises(StageError) as info:
        validate.run_node_check(str(tmp_path / "avatar.vrm"), timeout=30)
    assert info.value.code == "validator_unavailable"
    shown = f"{info.value.message} {info.value.details}"
    assert "/srv/avatarforge" not in shown and "node:internal" not in shown
    assert "/srv/avatarforge" in caplog.text
