#!/usr/bin/env bash
# Webhook ingest throughput of ONE biogate instance: wrk replays pre-signed
# Linktree deliveries (POST /webhooks/linktree), each with its own delivery id,
# and reports req/s, p50/p99 latency and how many were answered
# {"received":true} vs {"duplicate":true}. Loopback only, bounded in time, and
# it stops only what it started. See bench/README.md.
#
#   bench/webhooks.sh
#   DURATION=30s CONNECTIONS=128 REQUESTS=400000 bench/webhooks.sh
#   WRK_DELAY_MS=10 bench/webhooks.sh    # paced: each connection pauses 10 ms after each answer
#
# After the replay it waits (up to DRAIN_TIMEOUT) for the events consumer to
# process what was queued and reports how long that took: the answers never
# wait for processing, but on one machine both share the CPU.
#
# Needs: Debian/Ubuntu (wrk, curl and python3 are apt-get installed when
# missing, which needs root or sudo), Java 17 (and Maven to build the jar).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$SCRIPT_DIR/common.sh"

# ---- knobs ----------------------------------------------------------------
BIOGATE_HTTP_PORT="${BIOGATE_HTTP_PORT:-18080}"
BIOGATE_SANDBOX_PORT="${BIOGATE_SANDBOX_PORT:-18090}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-64}"
WRK_THREADS="${WRK_THREADS:-2}"
WRK_TIMEOUT="${WRK_TIMEOUT:-5s}"
REQUESTS="${REQUESTS:-200000}"                 # pre-signed deliveries (all threads together)
SCRIPT_BENCH="${SCRIPT_BENCH:-1}"             # 0: skip the redis-benchmark run of the ingest script
WARMUP_DURATION="${WARMUP_DURATION:-30s}"     # unrecorded replay of other deliveries before the measured one (0 = none)
DRAIN_TIMEOUT="${DRAIN_TIMEOUT:-120}"         # seconds to wait for the warm-up backlog to be processed

[[ "$WRK_THREADS" =~ ^[1-9][0-9]*$ ]] || die "WRK_THREADS must be a positive integer"
[[ "$CONNECTIONS" =~ ^[1-9][0-9]*$ ]] || die "CONNECTIONS must be one positive integer"
(( CONNECTIONS >= WRK_THREADS )) || die "CONNECTIONS must be >= WRK_THREADS"
[[ "$REQUESTS" =~ ^[1-9][0-9]*$ ]] || die "REQUESTS must be a positive integer"
(( REQUESTS >= WRK_THREADS )) || die "REQUESTS must be >= WRK_THREADS"
DURATION_S="$(duration_seconds "$DURATION")"
WARMUP_S=0
if [[ "$WARMUP_DURATION" != 0 ]]; then WARMUP_S="$(duration_seconds "$WARMUP_DURATION")"; fi

# A throwaway secret unless one is given; the gateway gets the same one.
if [[ -z "${LINKTREE_WEBHOOK_SECRET:-}" ]]; then
  LINKTREE_WEBHOOK_SECRET="$(random_secret)"
fi
export LINKTREE_WEBHOOK_SECRET
# k6 and this script sign with the first secret of a rotation list.
SIGNING_SECRET="${LINKTREE_WEBHOOK_SECRET%%,*}"
export SIGNING_SECRET

ensure_tools() {
  need_tools wrk curl python3
  if [[ "$SCRIPT_BENCH" == 1 ]] && ! command -v redis-benchmark >/dev/null 2>&1; then
    apt_install redis-tools
  fi
}

# redis_port: the port of the Redis the gateway uses (REDIS_URL, else the private
# redis-server it started, as its log says).
redis_port() {
  if [[ -n "${REDIS_URL:-}" ]]; then
    sed -E 's#^redis://([^@/]*@)?[^:/]+:([0-9]+).*#\2#' <<<"$REDIS_URL"
  else
    sed -nE 's/.*started private redis-server on 127\.0\.0\.1:([0-9]+).*/\1/p' "$TMP_DIR/biogate.log" | tail -n 1
  fi
}

# script_bench PORT BODY: redis-benchmark runs redis/webhook_ingest.lua as the
# gateway calls it on one server (5 keys: a stream, a history hash, 2 dedupe
# markers and the delivery id's route, each delivery new) with the same concurrency; writes its CSV line to
# $TMP_DIR/script.csv. Its keys live under bg:bench:{bg} and expire in 60 s;
# the stream is deleted afterwards.
script_bench() {
  local port="$1" body="$2" sha requests
  sha="$(redis-cli -p "$port" SCRIPT LOAD "$(cat "$ROOT_DIR/redis/webhook_ingest.lua")")"
  requests=$(( 20000 * DURATION_S ))
  run_bounded "$((DURATION_S * 4 + 60))" "$TMP_DIR/script.csv" redis-benchmark -p "$port" -c "$CONNECTIONS" \
    -n "$requests" -r 100000000 --csv EVALSHA "$sha" 5 'bg:bench:{bg}' 'bg:bench:{bg}:h:__rand_int__' \
    'bg:bench:{bg}:id:__rand_int__' 'bg:bench:{bg}:sig:__rand_int__' 'bg:bench:{bg}:route:__rand_int__' \
    60 100000000 linktree 'id-__rand_int__' link.updated "$(date +%s)000" "$body" 0 || die "redis-benchmark failed"
  redis-cli -p "$port" DEL 'bg:bench:{bg}' >/dev/null
}

# ---- main ----------------------------------------------------------------------
install_traps
ensure_tools
make_tmp_dir
mkdir -p "$RESULTS_DIR"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULT_FILE="$RESULTS_DIR/$STAMP-webhooks.txt"
RUN_ID="$STAMP-$$"
URL="http://127.0.0.1:$BIOGATE_HTTP_PORT/webhooks/linktree"

start_biogate
probe_endpoint "$URL" "$RUN_ID"

log "signing $REQUESTS deliveries"
sign_requests "$TMP_DIR/requests" "$WRK_THREADS" "$REQUESTS" "$RUN_ID"

# Warm-up: the JIT compiles the ingest and consumer paths under the same load, with
# deliveries of their own; the measured run starts once their backlog is processed.
if (( WARMUP_S > 0 )); then
  log "warming up: ${WARMUP_DURATION} of other deliveries (not recorded)"
  sign_requests "$TMP_DIR/warmup" "$WRK_THREADS" "$(( 16000 * WARMUP_S ))" "$RUN_ID-warmup"
  run_bounded "$((WARMUP_S + 60))" "$TMP_DIR/warmup.txt" "$WRK_BIN" -t"$WRK_THREADS" -c"$CONNECTIONS" \
    -d"$WARMUP_DURATION" --timeout "$WRK_TIMEOUT" -s "$BENCH_DIR/webhook.lua" "$URL" -- "$TMP_DIR/warmup" \
    || { cat "$TMP_DIR/warmup.txt" >&2; die "warm-up replay failed"; }
  deadline=$((SECONDS + DRAIN_TIMEOUT))
  while (( $(metric biogate_stream_backlog 'stream="events"') > 0 )); do
    (( SECONDS < deadline )) || die "the warm-up backlog was not processed within ${DRAIN_TIMEOUT}s"
    sleep 1
  done
  log "warm-up backlog processed"
fi

# The script alone first, while the gateway idles: after wrk its consumer would still be draining the backlog.
if [[ "$SCRIPT_BENCH" == 1 ]]; then
  port="$(redis_port)"
  [[ -n "$port" ]] || die "cannot tell which port the gateway's Redis listens on (set REDIS_URL)"
  log "redis-benchmark of redis/webhook_ingest.lua on 127.0.0.1:$port, -c$CONNECTIONS"
  script_bench "$port" "$(head -n 1 "$TMP_DIR/requests.0.txt" | cut -f4)"
fi

{
  echo "biogate webhook ingest benchmark, $STAMP"
  wrk_header webhook.lua "$URL"
  echo "$REQUESTS pre-signed deliveries, $((REQUESTS / WRK_THREADS)) per thread, each with its own delivery id"
  if [[ -n "${WRK_DELAY_MS:-}" ]]; then
    echo "paced: each connection pauses ${WRK_DELAY_MS} ms after each answer (WRK_DELAY_MS)"
  fi
  echo
} | tee "$RESULT_FILE"

# processed: events this gateway finished (handled or dead-lettered), from its live counters.
processed() {
  echo $(( $(metric biogate_events_handled_total) + $(metric biogate_events_dead_lettered_total) ))
}

OUT="$TMP_DIR/wrk.txt"
done_before="$(processed)"
# CPU per accepted delivery, ingest and processing together (replay and drain): the gateway's, and its private
# redis-server's when it runs one (a child process). Less noisy than the rate on a shared machine.
REDIS_PID="$(pgrep -P "$BIOGATE_PID" redis-server | head -n 1 || true)"
gw_ticks0="$(cpu_ticks "$BIOGATE_PID")"
redis_ticks0="$([[ -n "$REDIS_PID" ]] && cpu_ticks "$REDIS_PID" || echo 0)"
wrk_replay webhook.lua "$URL" "$TMP_DIR/requests" "$OUT"

# How far processing is behind the answers when the replay ends, and how long the events consumer then takes to
# finish (live counters, not the sampled backlog gauge): the answers above do not wait for it, but on one shared
# machine it competes with them for the CPU.
done_during=$(( $(processed) - done_before ))
drain_start=$SECONDS
while (( $(processed) - done_before < $(lua_stat "$OUT" "webhook received") )) && (( SECONDS - drain_start < DRAIN_TIMEOUT )); do
  sleep 0.5
done
drain_s=$((SECONDS - drain_start))
gw_ticks=$(( $(cpu_ticks "$BIOGATE_PID") - gw_ticks0 ))
redis_ticks=$(( $([[ -n "$REDIS_PID" ]] && cpu_ticks "$REDIS_PID" || echo 0) - redis_ticks0 ))
left=$(( $(lua_stat "$OUT" "webhook received") - ($(processed) - done_before) ))

rps="$(wrk_stat "$OUT" rps)"
p50="$(wrk_stat "$OUT" p50)"
p99="$(wrk_stat "$OUT" p99)"
total="$(awk '/requests in/ {print $1}' "$OUT")"
received="$(lua_stat "$OUT" "webhook received")"
duplicate="$(lua_stat "$OUT" "webhook duplicate")"
other="$(lua_stat "$OUT" "webhook other")"
wrapped="$(lua_stat "$OUT" "webhook wrapped")"
socket_errors="$(wrk_stat "$OUT" socket_errors)"
[[ -n "$rps" && -n "$p50" && -n "$p99" && -n "$received" ]] || { cat "$OUT" >&2; die "could not parse wrk output"; }

{
  sed -n '/Thread Stats/,$p' "$OUT"
  echo
  printf '%-28s %s\n' "requests/s" "$rps"
  printf '%-28s %s ms\n' "latency p50" "$(to_ms "$p50")"
  printf '%-28s %s ms\n' "latency p99" "$(to_ms "$p99")"
  printf '%-28s %s\n' "requests completed" "${total:-?}"
  printf '%-28s %s\n' "200 {\"received\":true}" "$received"
  printf '%-28s %s\n' "200 {\"duplicate\":true}" "$duplicate"
  printf '%-28s %s\n' "other answers" "$other"
  printf '%-28s %s\n' "socket errors" "${socket_errors:-0}"
  printf '%-28s %s\n' "processed during the run" "$done_during"
  if (( left <= 0 )); then
    printf '%-28s %s s after the run\n' "all processed" "$drain_s"
    printf '%-28s %s\n' "processed/s, end to end" \
      "$(awk -v n="$received" -v d="$DURATION_S" -v w="$drain_s" 'BEGIN {printf "%.0f", n / (d + w)}')"
  else
    printf '%-28s %s (%s s after the run)\n' "still unprocessed" "$left" "$drain_s"
  fi
  awk -v g="$gw_ticks" -v r="$redis_ticks" -v n="$received" -v hz="$(getconf CLK_TCK)" -v own="$REDIS_PID" 'BEGIN {
    if (n > 0) {
      printf "%-28s %.1f\n", "gateway CPU us/delivery", g * 1e6 / hz / n
      if (own != "") printf "%-28s %.1f\n", "redis-server CPU us/delivery", r * 1e6 / hz / n
    }
  }'
  if [[ "${wrapped:-0}" != 0 ]]; then
    echo
    echo "NOTE: wrk used up the pre-signed deliveries $wrapped time(s) and started over; the repeats are"
    echo "      the duplicates above. Raise REQUESTS to measure first deliveries only."
  fi
  if [[ "${other:-0}" != 0 ]]; then
    echo
    echo "WARNING: $other answers were neither received nor duplicate, e.g.:"
    grep '^webhook first other answer:' "$OUT" || true
  fi
} | tee -a "$RESULT_FILE"
if [[ "$SCRIPT_BENCH" == 1 ]]; then
  # "EVALSHA ...","rps","avg","min","p50","p95","p99","max": counted from the end (the body is in the test name)
  script_line="$(grep -v '^"test"' "$TMP_DIR/script.csv" | tail -n 1)"
  script_rps="$(awk -F'","' '{print $(NF - 6)}' <<<"$script_line")"
  script_p99="$(awk -F'","' '{print $(NF - 1)}' <<<"$script_line")"
  [[ -n "$script_rps" ]] || { cat "$TMP_DIR/script.csv" >&2; die "could not parse redis-benchmark output"; }
  {
    echo
    echo "redis-benchmark -c$CONNECTIONS --csv EVALSHA <redis/webhook_ingest.lua> 5 <keys> <args> (same Redis, before wrk)"
    printf '%-28s %s\n' "script requests/s" "$script_rps"
    printf '%-28s %s ms\n' "script latency p99" "$script_p99"
    echo
    printf '%-28s %s\n' "gateway / script" "$(awk -v a="$rps" -v b="$script_rps" 'BEGIN {printf "%.2f", a / b}')"
    printf '%-28s %s ms\n' "gateway latency p99" "$(to_ms "$p99")"
    printf '%-28s %s\n' "goal (>= 0.5, p99 <= 10 ms)" "$(awk -v a="$rps" -v b="$script_rps" -v p="$(to_ms "$p99")" \
      'BEGIN {print (a / b >= 0.5 && p + 0 <= 10) ? "met" : "missed"}')"
  } | tee -a "$RESULT_FILE"
fi
log "results written to $RESULT_FILE"
if [[ "${other:-0}" != 0 ]]; then
  exit 1
fi
