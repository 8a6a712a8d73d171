"""Stage 8, validate: the Khronos glTF validator, three-vrm and the avatar library must all accept it.

Runs scripts/validate_vrm.mjs (npm gltf-validator; three's GLTFLoader.parse with VRMLoaderPlugin)
under Node, then the library's own parser (characters.avatars.services.inspect_avatar_file).
Artifacts: data {"validator": {"errors", "warnings", "infos", "messages"}, "three": {...},
"library": {"format", "warnings"}}. Any error or warning fails the stage with the messages.
"""
from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from ..chibi.head import EXPRESSIONS
from ..chibi.spec import BONE_NAMES
from ..conf import setting
from .base import Stage, StageContext, StageError, StageOutput

logger = logging.getLogger(__name__)

SCRIPT = Path(settings.BASE_DIR) / "scripts" / "validate_vrm.mjs"
# Library warnings that are expected for a generated chibi (it has no finger bones).
EXPECTED_LIBRARY_WARNINGS = {"no_finger_bones"}


def run_node_check(path: str, *, timeout: float, checkpoint=lambda: None) -> dict:
    """Run the Node validation script on a file; returns its JSON report."""
    try:
        proc = subprocess.Popen(
            [setting("GENERATION_NODE"), str(SCRIPT), path],
            cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "NODE_NO_WARNINGS": "1"},
        )
    except FileNotFoundError:
        raise StageError(
            _("The avatar checker needs Node.js on the worker, and it is not installed. An administrator must install Node.js and run “npm install”."),
            code="validator_unavailable",
        ) from None
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None:
            checkpoint()  # may raise (cancelled, timed out): the finally below stops Node
            if time.monotonic() > deadline:
                raise StageError(_("The avatar check took too long."), code="stage_timeout")
            time.sleep(0.05)
        out, err = proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    if proc.returncode != 0:
        # Node's stderr is a stack trace with the server's paths: the log gets it, the job's
        # error (shown to its owner) gets the exit status only.
        logger.warning("avatar checker exited with %s: %s", proc.returncode, err.decode("utf-8", "replace")[-2000:])
        raise StageError(
            _("The avatar checker could not run (is “npm install” done on the worker?)."),
            code="validator_unavailable",
            details={"exit_status": proc.returncode},
        )
    try:
        return json.loads(out.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise StageError(_("The avatar checker gave an unreadable answer."), code="validator_unavailable") from None


def check_report(report: dict) -> list[str]:
    """Problems in a Node report (empty when the file is valid and loads with everything)."""
    problems = []
    validator = report.get("validator") or {}
    if validator.get("crashed"):
        problems.append(f"glTF validator crashed: {validator['crashed']}")
    elif validator.get("errors", 1) or validator.get("warnings", 1):
        problems.append(f"glTF validator: {validator.get('errors')} errors, {validator.get('warnings')} warnings")
    three = report.get("three") or {}
    if not three.get("ok"):
        problems.append(f"three-vrm could not load it: {three.get('error') or three.get('imageErrors')}")
    else:
        missing = sorted(set(BONE_NAMES) - set(three.get("humanBones", [])))
        if missing:
            problems.append(f"three-vrm misses bones: {', '.join(missing)}")
        names = {e["name"] for e in three.get("expressions", [])}
        if not set(EXPRESSIONS) <= names:
            problems.append(f"three-vrm misses expressions: {', '.join(sorted(set(EXPRESSIONS) - names))}")
        if three.get("expressionsDriven", 0) < len(EXPRESSIONS):
            problems.append("some expressions move no morph target")
    return problems


def library_check(data: bytes) -> dict:
    from avatarforge.errors import AppError
    from characters.avatars.services import inspect_avatar_file

    try:
        record, warnings, _thumb = inspect_avatar_file(io.BytesIO(data))
    except AppError as exc:
        raise StageError(
            _("The avatar library refused the file: %(message)s") % {"message": exc.message}, code="validation_failed",
            details={"library": exc.as_dict()},
        ) from None
    unexpected = [w for w in warnings if w.get("code") not in EXPECTED_LIBRARY_WARNINGS]
    return {"format": record.get("format"), "warnings": warnings, "unexpected": unexpected}


class ValidateStage(Stage):
    name = "validate"

    def run(self, ctx: StageContext) -> StageOutput:
        data = ctx.file("export", "avatar.vrm")
        with tempfile.TemporaryDirectory(prefix="avatarforge-vrm-") as tmp:
            path = os.path.join(tmp, "avatar.vrm")
            with open(path, "wb") as fh:
                fh.write(data)
            report = run_node_check(path, timeout=max(1.0, ctx.time_left), checkpoint=ctx.checkpoint)
        ctx.checkpoint(0.8)
        library = library_check(data)
        validator = report.get("validator") or {}
        summary = {
            "validator": {k: validator.get(k) for k in ("errors", "warnings", "infos", "hints", "version")}
            | {"messages": (validator.get("messages") or [])[:20]},
            "three": {k: v for k, v in (report.get("three") or {}).items() if k != "expressions"},
            "library": library,
        }
        problems = check_report(report)
        if library["format"] != "1.0":
            problems.append(f"library read it as {library['format']}, not VRM 1.0")
        if library["unexpected"]:
            problems.append("library warnings: " + ", ".join(w["code"] for w in library["unexpected"]))
        if problems:
            raise StageError(
                _("The generated avatar did not pass the checks, so it was not added to your library. Retry; if it fails again, try another photo."),
                code="validation_failed",
                details={"problems": problems, "report": summary},
            )
        return StageOutput(data=summary)
