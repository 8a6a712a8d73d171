#!/usr/bin/env bash
# Smoke test of vLLM sleep mode on a real GPU host (docs/gpu.md, "Smoke test").
#
# Start vLLM first, e.g.:
#   VLLM_SERVER_DEV_MODE=1 vllm serve Qwen/Qwen2.5-7B-Instruct --enable-sleep-mode \
#       --host 127.0.0.1 --port 8000 --gpu-memory-utilization 0.80 --max-model-len 4096
# then:  VLLM_URL=http://127.0.0.1:8000 bash scripts/gpu_smoke.sh
#
# Prints one `SMOKE <name> <value>` line per measurement:
#   memory (MiB, nvidia-smi) awake, after sleep level 1, after waking weights, after waking the
#   KV cache, after sleep level 2; the time of each sleep / wake call; the first token after a
#   wake; and what a chat request gets while the model sleeps (HTTP status and body).
# Variables: VLLM_URL (server root, no /v1), MODEL (default: the first of /v1/models), GPU_INDEX,
# API_KEY (for /v1 routes when vLLM runs with --api-key; the sleep routes ignore it),
# NVIDIA_SMI (default nvidia-smi), SKIP_LEVEL2=1 to stop after level 1.
set -euo pipefail

VLLM_URL="${VLLM_URL:-http://127.0.0.1:8000}"
GPU_INDEX="${GPU_INDEX:-0}"
NVIDIA_SMI="${NVIDIA_SMI:-nvidia-smi}"
API_KEY="${API_KEY:-}"
AUTH=()
if [ -n "$API_KEY" ]; then AUTH=(-H "Authorization: Bearer $API_KEY"); fi

fail() { echo "gpu_smoke: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }
memory_mb() { "$NVIDIA_SMI" --query-gpu=memory.used --format=csv,noheader,nounits -i "$GPU_INDEX" | tr -d ' '; }
total_mb() { "$NVIDIA_SMI" --query-gpu=memory.total --format=csv,noheader,nounits -i "$GPU_INDEX" | tr -d ' '; }
is_sleeping() { curl -fsS "$VLLM_URL/is_sleeping" | python3 -c 'import json,sys; print(str(json.load(sys.stdin)["is_sleeping"]).lower())'; }

# POST a sleep-mode route, print its duration in ms; fail on a non-2xx answer.
timed_post() {
  local started status
  started=$(now_ms)
  status=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$VLLM_URL$1")
  [ "${status:0:1}" = 2 ] || fail "POST $1 answered $status"
  echo $(( $(now_ms) - started ))
}

# Stream a one-sentence completion; print ms to the first content token.
first_token_ms() {
  local started
  started=$(now_ms)
  curl -sS -N "${AUTH[@]}" -H 'Content-Type: application/json' "$VLLM_URL/v1/chat/completions" \
    -d "{\"model\":\"$MODEL\",\"stream\":true,\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}]}" |
  while IFS= read -r line; do
    if printf '%s' "$line" | grep -Eq '^data: .*"content": ?"[^"]'; then
      echo $(( $(now_ms) - started )); break
    fi
  done || true  # curl ends with a broken pipe once we stop reading
}

curl -sS -o /dev/null "$VLLM_URL/health" || fail "nothing answers at $VLLM_URL"
curl -fsS "$VLLM_URL/is_sleeping" >/dev/null || fail "GET /is_sleeping is missing: start vLLM with VLLM_SERVER_DEV_MODE=1 and --enable-sleep-mode"
if [ -z "${MODEL:-}" ]; then
  MODEL=$(curl -fsS "${AUTH[@]}" "$VLLM_URL/v1/models" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
fi
[ "$(is_sleeping)" = false ] || timed_post "/wake_up" >/dev/null

echo "SMOKE model $MODEL"
echo "SMOKE memory_total_mb $(total_mb)"
echo "SMOKE memory_awake_mb $(memory_mb)"
echo "SMOKE first_token_ms_awake $(first_token_ms)"

echo "SMOKE sleep_level1_ms $(timed_post '/sleep?level=1')"
[ "$(is_sleeping)" = true ] || fail "/is_sleeping is not true after POST /sleep?level=1"
echo "SMOKE memory_after_sleep_level1_mb $(memory_mb)"

# What a chat request gets while the model sleeps (the platform never sends one: the GPU worker
# wakes the model first; this records the server's own answer).
body=$(mktemp)
status=$(curl -sS -o "$body" -w '%{http_code}' --max-time 30 "${AUTH[@]}" -H 'Content-Type: application/json' \
  "$VLLM_URL/v1/chat/completions" -d "{\"model\":\"$MODEL\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" || echo timeout)
echo "SMOKE chat_while_sleeping_status $status"
echo "SMOKE chat_while_sleeping_body $(head -c 300 "$body" | tr '\n' ' ')"
rm -f "$body"

echo "SMOKE wake_weights_ms $(timed_post '/wake_up?tags=weights')"
echo "SMOKE memory_after_wake_weights_mb $(memory_mb)"
echo "SMOKE wake_kv_cache_ms $(timed_post '/wake_up?tags=kv_cache')"
echo "SMOKE memory_after_wake_kv_cache_mb $(memory_mb)"
[ "$(is_sleeping)" = false ] || fail "/is_sleeping is still true after waking weights and kv_cache"
echo "SMOKE first_token_ms_after_wake $(first_token_ms)"
echo "SMOKE first_token_ms_warm $(first_token_ms)"

if [ "${SKIP_LEVEL2:-0}" != 1 ]; then
  echo "SMOKE sleep_level2_ms $(timed_post '/sleep?level=2')"
  echo "SMOKE memory_after_sleep_level2_mb $(memory_mb)"
  echo "SMOKE wake_after_level2_ms $(timed_post '/wake_up')"
  # Level 2 discarded the weights: they must be loaded again before answering sensibly.
  started=$(now_ms)
  status=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    "$VLLM_URL/collective_rpc" -d '{"method":"reload_weights"}' || true)
  echo "SMOKE reload_weights_status $status"
  echo "SMOKE reload_weights_ms $(( $(now_ms) - started ))"
  curl -sS -o /dev/null -X POST "$VLLM_URL/reset_prefix_cache" || true
  echo "SMOKE memory_after_level2_wake_mb $(memory_mb)"
  echo "SMOKE first_token_ms_after_level2 $(first_token_ms)"
fi
echo "SMOKE done ok"
