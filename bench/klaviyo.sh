#!/usr/bin/env bash
# Klaviyo webhook ingest throughput of ONE biogate instance: wrk replays
# pre-signed Klaviyo batches (POST /webhooks/klaviyo), every event with its own
# external_id, and reports deliveries/s, events/s, p50/p99 latency and the
# received/duplicate event counts. Loopback only, bounded in time; it stops
# only what it started. See bench/README.md.
#
#   bench/klaviyo.sh
#   BATCH=1000 BATCHES=300 DURATION=20s bench/klaviyo.sh
#
# Needs: wrk, curl, python3 (apt-get installed when missing), Java 17.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$SCRIPT_DIR/common.sh"

# ---- knobs ----------------------------------------------------------------
BIOGATE_HTTP_PORT="${BIOGATE_HTTP_PORT:-18080}"
BIOGATE_SANDBOX_PORT="${BIOGATE_SANDBOX_PORT:-18090}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-16}"
WRK_THREADS="${WRK_THREADS:-2}"
WRK_TIMEOUT="${WRK_TIMEOUT:-10s}"
BATCH="${BATCH:-100}"                          # events per delivery (1-1000)
BATCHES="${BATCHES:-4000}"                     # pre-signed deliveries (all threads together)

[[ "$WRK_THREADS" =~ ^[1-9][0-9]*$ ]] || die "WRK_THREADS must be a positive integer"
[[ "$CONNECTIONS" =~ ^[1-9][0-9]*$ ]] || die "CONNECTIONS must be a positive integer"
(( CONNECTIONS >= WRK_THREADS )) || die "CONNECTIONS must be >= WRK_THREADS"
[[ "$BATCH" =~ ^[1-9][0-9]*$ ]] && (( BATCH <= 1000 )) || die "BATCH must be 1-1000"
[[ "$BATCHES" =~ ^[1-9][0-9]*$ ]] && (( BATCHES >= WRK_THREADS )) || die "BATCHES must be >= WRK_THREADS"
DURATION_S="$(duration_seconds "$DURATION")"

# A throwaway secret unless one is given, passed through the environment only.
if [[ -z "${KLAVIYO_WEBHOOK_SECRET:-}" ]]; then
  KLAVIYO_WEBHOOK_SECRET="$(random_secret)"
fi
export KLAVIYO_WEBHOOK_SECRET
SIGNING_SECRET="${KLAVIYO_WEBHOOK_SECRET%%,*}"
export SIGNING_SECRET

# sign_batches PREFIX THREADS TOTAL BATCH RUN_ID: PREFIX.<thread>.txt, one signed batch a line.
sign_batches() {
  python3 - "$@" <<'PY'
import hashlib, hmac, json, os, sys, time

prefix, threads, total, size, run_id = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
key = os.environ["SIGNING_SECRET"].encode("utf-8")
ts = str(int(time.time()))
hook = "01HBENCHWEBHOOK"
per_thread = total // threads
for t in range(threads):
    with open("%s.%d.txt" % (prefix, t), "w", encoding="utf-8") as out:
        for n in range(per_thread):
            data = [{"topic": "event:klaviyo.clicked_email", "external_id": "kb-%s-%d-%d-%d" % (run_id, t, n, i),
                     "payload": {"email": "reader%d@example.com" % (i % 100), "campaign": "bench"}} for i in range(size)]
            body = json.dumps({"data": data, "meta": {"klaviyo_account_id": "BENCH", "klaviyo_webhook_id": hook,
                               "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}, separators=(",", ":"))
            sig = hmac.new(key, (body + ts).encode("utf-8"), hashlib.sha256).hexdigest()
            out.write("%s\t%s\t%s\t%s\n" % (ts, sig, hook, body))
PY
}

probe_endpoint() {
  local url="$1" run_id="$2" file="$TMP_DIR/probe" ts sig hook body code
  sign_batches "$file" 1 1 2 "$run_id-probe"
  IFS=$'\t' read -r ts sig hook body <"$file.0.txt"
  code="$(curl -s -o "$TMP_DIR/probe.body" -w '%{http_code}' --max-time 10 -X POST -H 'Content-Type: application/json' \
    -H "Klaviyo-Timestamp: $ts" -H "Klaviyo-Signature: $sig" -H "Klaviyo-Webhook-Id: $hook" \
    --data-binary "$body" "$url" || true)"
  [[ "$code" == 200 ]] && grep -q '"received":2,"duplicates":0' "$TMP_DIR/probe.body" \
    || die "probe batch answered $code $(head -c 300 "$TMP_DIR/probe.body") (expected {\"received\":2,\"duplicates\":0})"
}

# ---- main ----------------------------------------------------------------------
install_traps
need_tools wrk curl python3
make_tmp_dir
mkdir -p "$RESULTS_DIR"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULT_FILE="$RESULTS_DIR/$STAMP-klaviyo.txt"
RUN_ID="$STAMP-$$"
URL="http://127.0.0.1:$BIOGATE_HTTP_PORT/webhooks/klaviyo"

start_biogate
probe_endpoint "$URL" "$RUN_ID"

log "signing $BATCHES batches of $BATCH events"
sign_batches "$TMP_DIR/batches" "$WRK_THREADS" "$BATCHES" "$BATCH" "$RUN_ID"

{
  echo "biogate Klaviyo webhook ingest benchmark, $STAMP"
  wrk_header klaviyo.lua "$URL"
  echo "$BATCHES pre-signed batches of $BATCH events, every external_id distinct"
  echo
} | tee "$RESULT_FILE"

OUT="$TMP_DIR/wrk.txt"
wrk_replay klaviyo.lua "$URL" "$TMP_DIR/batches" "$OUT"

rps="$(wrk_stat "$OUT" rps)"
p50="$(wrk_stat "$OUT" p50)"
p99="$(wrk_stat "$OUT" p99)"
batches="$(lua_stat "$OUT" "klaviyo batches")"
received="$(lua_stat "$OUT" "klaviyo events received")"
duplicates="$(lua_stat "$OUT" "klaviyo events duplicate")"
other="$(lua_stat "$OUT" "klaviyo other")"
wrapped="$(lua_stat "$OUT" "klaviyo wrapped")"
[[ -n "$rps" && -n "$batches" && -n "$received" ]] || { cat "$OUT" >&2; die "could not parse wrk output"; }
events_per_s="$(python3 -c "print(round(($received + $duplicates) / $DURATION_S))")"
new_per_s="$(python3 -c "print(round($received / $DURATION_S))")"

{
  sed -n '/Thread Stats/,$p' "$OUT"
  echo
  printf '%-32s %s\n' "deliveries (batches)/s" "$rps"
  printf '%-32s %s\n' "events/s (received+duplicate)" "$events_per_s"
  printf '%-32s %s\n' "new events queued/s" "$new_per_s"
  printf '%-32s %s ms\n' "latency p50" "$(to_ms "$p50")"
  printf '%-32s %s ms\n' "latency p99" "$(to_ms "$p99")"
  printf '%-32s %s\n' "batches answered 200" "$batches"
  printf '%-32s %s\n' "events received" "$received"
  printf '%-32s %s\n' "events duplicate" "$duplicates"
  printf '%-32s %s\n' "other answers" "$other"
  if [[ "${wrapped:-0}" != 0 ]]; then
    echo "NOTE: wrk replayed the pre-signed batches $wrapped time(s); raise BATCHES to measure new events only."
  fi
  if [[ "${other:-0}" != 0 ]]; then
    grep '^klaviyo first other answer:' "$OUT" || true
  fi
} | tee -a "$RESULT_FILE"
log "results written to $RESULT_FILE"
[[ "${other:-0}" == 0 ]]
