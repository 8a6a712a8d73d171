#!/usr/bin/env bash
# Idempotent set-up: virtualenv, Python and npm dependencies, front-end bundles, models from
# packages, database migrations, initial data. A second run only redoes what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), "AvatarForge needs Python 3.11"' \
  || { echo "Python 3.11 is required (found $($PY --version 2>&1))." >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "Node.js 20+ with npm is required." >&2; exit 1; }

mkdir -p var
stamp() { sha256sum "$@" | sha256sum | cut -c1-16; }

if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv"
  "$PY" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
REQ_STAMP=$(stamp requirements.txt requirements-dev.txt)
if [ "$(cat var/.pip-stamp 2>/dev/null)" != "$REQ_STAMP" ]; then
  echo "[setup] installing Python packages"
  pip install -q --upgrade pip
  pip install -q -r requirements-dev.txt
  echo "$REQ_STAMP" > var/.pip-stamp
fi

NPM_STAMP=$(stamp package.json package-lock.json)
if [ ! -d node_modules ] || [ "$(cat var/.npm-stamp 2>/dev/null)" != "$NPM_STAMP" ]; then
  echo "[setup] installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$NPM_STAMP" > var/.npm-stamp
fi

ASSET_STAMP=$(find frontend package-lock.json -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
if [ ! -d static/dist ] || [ "$(cat var/.asset-stamp 2>/dev/null)" != "$ASSET_STAMP" ]; then
  echo "[setup] building front-end bundles"
  npm run --silent build
  echo "$ASSET_STAMP" > var/.asset-stamp
fi

# App-specific steps (models from packages, ...), in name order.
for step in scripts/setup.d/*.sh; do
  [ -e "$step" ] || continue
  ROOT="$ROOT" bash "$step"
done

if [ "${SETUP_SKIP_DB:-0}" != "1" ]; then
  export AVATARFORGE_EMBEDDED=1
  python manage.py migrate --noinput -v 0
  python manage.py ensure_demo
  for cmd in ${SETUP_DATA_COMMANDS:-load_presets}; do python manage.py "$cmd"; done
fi
echo "[setup] done"
