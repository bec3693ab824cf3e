#!/usr/bin/env bash
# Commands per master under mixed load: ONE gateway on a Redis Cluster of MASTERS (3) masters takes, at once and
# for DURATION, three paced wrk loads: profile reads over many creators (most of a few popular ones, cached; the
# rest of a long tail, misses), signed Linktree webhook deliveries (ingest, then the gateway's own consumers), and
# click redirects over the popular creators (each click counted). Every master's stats are reset before the
# measured run; afterwards it prints each load's req/s and, per master, the commands it served, its share of all
# of them and its top commands (INFO commandstats). Loopback only, bounded in time; stops what it started (the
# cluster, the gateway, wrk), also on an error or Ctrl+C. See bench/README.md.
#
#   bench/mixed.sh
#   DURATION=60s READ_RATE=8000 WEBHOOK_RATE=2000 CLICK_RATE=4000 bench/mixed.sh
#
# Needs: Debian/Ubuntu (redis-server, redis-tools, wrk, curl and python3 are apt-get installed when missing, which
# needs root or sudo), Java 17 (and Maven to build the jar).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$SCRIPT_DIR/common.sh"

# ---- knobs ----------------------------------------------------------------
MASTERS="${MASTERS:-3}"
CLUSTER_PORT="${CLUSTER_PORT:-17600}"
BIOGATE_HTTP_PORT="${BIOGATE_HTTP_PORT:-18180}"
BIOGATE_SANDBOX_PORT="${BIOGATE_SANDBOX_PORT:-18190}"
BIOGATE_MANAGEMENT_PORT="${BIOGATE_MANAGEMENT_PORT:-18185}"
DURATION="${DURATION:-30s}"
WARMUP_DURATION="${WARMUP_DURATION:-10s}"   # the same mixed load before the measured run, not recorded (0 = none)
CREATORS="${CREATORS:-100000}"              # generated creators the sandbox serves (synth-0 ...)
HOT="${HOT:-32}"                            # popular creators synth-0 .. synth-<HOT-1>: cached first, clicked
HOT_PCT="${HOT_PCT:-98}"                    # % of profile reads that go to them; the rest are long-tail misses
READ_RATE="${READ_RATE:-4000}"              # offered rates (per second) of the three loads
WEBHOOK_RATE="${WEBHOOK_RATE:-1000}"
CLICK_RATE="${CLICK_RATE:-2000}"
READ_CONNECTIONS="${READ_CONNECTIONS:-32}"
WEBHOOK_CONNECTIONS="${WEBHOOK_CONNECTIONS:-16}"
CLICK_CONNECTIONS="${CLICK_CONNECTIONS:-32}"
WRK_THREADS="${WRK_THREADS:-1}"             # per load
WRK_TIMEOUT="${WRK_TIMEOUT:-5s}"
TOP_COMMANDS="${TOP_COMMANDS:-8}"           # commands listed per master
DRAIN_TIMEOUT="${DRAIN_TIMEOUT:-60}"        # seconds to wait for the warm-up's events to be handled
PROFILE=demo
LINKS=8                                     # links of each generated profile (the sandbox's default)

[[ "$MASTERS" =~ ^[2-9]$ ]] || die "MASTERS must be 2..9"
for k in CREATORS HOT READ_RATE WEBHOOK_RATE CLICK_RATE READ_CONNECTIONS WEBHOOK_CONNECTIONS CLICK_CONNECTIONS \
    WRK_THREADS TOP_COMMANDS DRAIN_TIMEOUT; do
  [[ "${!k}" =~ ^[1-9][0-9]*$ ]] || die "$k must be a positive integer"
done
if ! [[ "$HOT_PCT" =~ ^[0-9]+$ ]] || (( HOT_PCT > 100 )); then die "HOT_PCT must be 0..100"; fi
(( HOT < CREATORS )) || die "HOT must be below CREATORS"
(( HOT <= 60 )) || die "HOT must be at most 60: caching them takes one upstream call each, out of a budget of 90/min"
DURATION_S="$(duration_seconds "$DURATION")"
WARMUP_S=0
if [[ "$WARMUP_DURATION" != 0 ]]; then WARMUP_S="$(duration_seconds "$WARMUP_DURATION")"; fi

# pause_ms CONNECTIONS RATE: the pause after each answer that holds CONNECTIONS connections to about RATE/s.
pause_ms() {
  local p=$(( $1 * 1000 / $2 ))
  (( p >= 1 )) || die "a rate of $2/s needs more than $1 connections"
  echo "$p"
}
READ_PAUSE="$(pause_ms "$READ_CONNECTIONS" "$READ_RATE")"
WEBHOOK_PAUSE="$(pause_ms "$WEBHOOK_CONNECTIONS" "$WEBHOOK_RATE")"
CLICK_PAUSE="$(pause_ms "$CLICK_CONNECTIONS" "$CLICK_RATE")"

# A throwaway webhook secret unless one is given; the gateway gets the same one (environment only).
if [[ -z "${LINKTREE_WEBHOOK_SECRET:-}" ]]; then
  LINKTREE_WEBHOOK_SECRET="$(random_secret)"
fi
export LINKTREE_WEBHOOK_SECRET
SIGNING_SECRET="${LINKTREE_WEBHOOK_SECRET%%,*}"
export SIGNING_SECRET

# start_loads SECONDS TAG REQUESTS: the three paced wrk loads in the background for SECONDS, output to
# $TMP_DIR/TAG-{reads,webhooks,clicks}.txt, the webhooks replaying the deliveries signed under REQUESTS.
LOAD_PIDS=()
start_loads() {
  local secs="$1" tag="$2" requests="$3" base="http://127.0.0.1:$BIOGATE_HTTP_PORT"
  LOAD_PIDS=()
  WRK_DELAY_MS="$READ_PAUSE" timeout "$((secs + 30))" "$WRK_BIN" -t"$WRK_THREADS" -c"$READ_CONNECTIONS" -d"${secs}s" \
    --timeout "$WRK_TIMEOUT" --latency -s "$BENCH_DIR/profiles.lua" "$base" -- "$CREATORS" mixed "$WRK_THREADS" "$HOT" \
    "$HOT_PCT" >"$TMP_DIR/$tag-reads.txt" 2>&1 &
  LOAD_PIDS+=("$!")
  WRK_DELAY_MS="$WEBHOOK_PAUSE" timeout "$((secs + 30))" "$WRK_BIN" -t"$WRK_THREADS" -c"$WEBHOOK_CONNECTIONS" \
    -d"${secs}s" --timeout "$WRK_TIMEOUT" --latency -s "$BENCH_DIR/webhook.lua" "$base/webhooks/linktree" -- \
    "$requests" >"$TMP_DIR/$tag-webhooks.txt" 2>&1 &
  LOAD_PIDS+=("$!")
  timeout "$((secs + 30))" "$WRK_BIN" -t"$WRK_THREADS" -c"$CLICK_CONNECTIONS" -d"${secs}s" --timeout "$WRK_TIMEOUT" \
    --latency -s "$BENCH_DIR/clicks.lua" "$base" -- "$CLICK_PAUSE" "$LINKS" "$HOT" >"$TMP_DIR/$tag-clicks.txt" 2>&1 &
  LOAD_PIDS+=("$!")
  EXTRA_PIDS+=("${LOAD_PIDS[@]}")   # stopped on exit if still running
}

# wait_loads TAG: waits for the three loads; stops the script if one failed.
wait_loads() {
  local pid kind i=0 failed=""
  local -a kinds=(reads webhooks clicks)
  for pid in "${LOAD_PIDS[@]}"; do
    kind="${kinds[i]}"; i=$((i + 1))
    if ! wait "$pid"; then
      cat "$TMP_DIR/$1-$kind.txt" >&2
      failed+=" $kind"
    fi
  done
  [[ -z "$failed" ]] || die "wrk failed:$failed"
}

# sign DELIVERIES TAG FIRST: pre-signs deliveries for one wrk run of the webhook load ($TMP_DIR/TAG.<thread>.txt),
# their links numbered from FIRST (the gateway dedupes on the body too: the two runs' bodies must differ).
sign() {
  sign_requests "$TMP_DIR/$2" "$WRK_THREADS" "$1" "$RUN_ID-$2" "$3"
}

# reads_by_result: "result count" lines of biogate_profile_reads_total (how the gateway answered profile reads).
reads_by_result() {
  curl -s --max-time 10 "$MANAGEMENT_BASE/metrics" |
    awk '$1 ~ /^biogate_profile_reads_total[{]/ { match($1, /result="[^"]*"/); print substr($1, RSTART + 8, RLENGTH - 9), $NF + 0 }' |
    sort
}

# master_stats PORT: "calls name" lines of the master's INFO commandstats, most calls first.
master_stats() {
  redis-cli -p "$1" INFO commandstats | tr -d '\r' |
    awk -F'[:=,]' '/^cmdstat_/ { name = substr($1, 9); print $3, name }' | sort -k1,1nr
}

# ---- main ----------------------------------------------------------------------
install_traps
need_tools wrk curl python3
need_redis
make_tmp_dir
mkdir -p "$RESULTS_DIR"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULT_FILE="$RESULTS_DIR/$STAMP-mixed.txt"
RUN_ID="$STAMP-$$"

log "starting a $MASTERS-master Redis Cluster on 127.0.0.1:$CLUSTER_PORT.. ($(redis-server --version | sed -E 's/.*v=([^ ]+).*/Redis \1/'))"
start_cluster "$CLUSTER_PORT" "$MASTERS"

# The gateway: trusted loopback proxy (each reader its own client, each click counted), the sandbox serving
# CREATORS generated profiles, and the popular creators known to it (as a deployment lists the creators it serves),
# so that caching them is not held to the never-seen names' share of the budget. Everything else is the default
# (upstream budget 90/min).
known="$(seq 0 $((HOT - 1)) | sed 's/^/"synth-/; s/$/"/' | paste -sd, -)"
cat >"$TMP_DIR/mixed.json" <<JSON
{
  "http": { "inbound": { "exemptLoopback": true, "trustedProxies": ["127.0.0.1/32"] } },
  "sandbox": { "syntheticProfiles": $CREATORS, "syntheticLinks": $LINKS },
  "linktree": { "firstSight": { "known": [$known] } }
}
JSON
export REDIS_TYPE=cluster
REDIS_ENDPOINTS="$(cluster_endpoints "$CLUSTER_PORT" "$MASTERS")"
export REDIS_ENDPOINTS BIOGATE_MANAGEMENT_PORT
BIOGATE_CONFIG="$TMP_DIR/mixed.json" start_biogate
BASE="http://127.0.0.1:$BIOGATE_HTTP_PORT"
probe_endpoint "$BASE/webhooks/linktree" "$RUN_ID"

# The popular creators into the cache (one upstream call each), then one counted click to check the redirects.
log "caching the $HOT popular creators"
deadline=$((SECONDS + 60))
for ((i = 0; i < HOT; i++)); do
  until [[ "$(http_code "$BASE/v1/profiles/synth-$i")" == 200 ]]; do
    (( SECONDS < deadline )) || die "GET /v1/profiles/synth-$i did not answer 200 within 60 s"
    sleep 0.5
  done
done
code="$(http_code "$BASE/r/synth-0/lnk_synth-0_01" -A "Mozilla/5.0 bench-probe" -H "X-Forwarded-For: 10.255.255.254")"
[[ "$code" == 302 ]] || die "GET /r/synth-0/lnk_synth-0_01 answers $code, not 302"

# Twice the paced rate's deliveries, so that no delivery repeats even if wrk runs ahead of the pace.
log "signing webhook deliveries"
sign $(( WEBHOOK_RATE * DURATION_S * 2 )) requests 0
if (( WARMUP_S > 0 )); then
  sign $(( WEBHOOK_RATE * WARMUP_S * 2 )) warmup 100000000
  log "warming up: ${WARMUP_DURATION} of the same mixed load (not recorded)"
  start_loads "$WARMUP_S" warmup "$TMP_DIR/warmup"
  wait_loads warmup
  kill -0 "$BIOGATE_PID" 2>/dev/null || { tail -n 20 "$TMP_DIR/biogate.log" >&2; die "the gateway stopped during the warm-up"; }
  deadline=$((SECONDS + DRAIN_TIMEOUT))
  while (( $(metric biogate_stream_backlog 'stream="events"') > 0 )); do
    (( SECONDS < deadline )) || die "the warm-up's events were not handled within ${DRAIN_TIMEOUT}s"
    sleep 1
  done
fi

for ((i = 0; i < MASTERS; i++)); do
  redis-cli -p $((CLUSTER_PORT + i)) CONFIG RESETSTAT >/dev/null
done
reads_by_result >"$TMP_DIR/reads-before.txt"
redirects0="$(metric biogate_http_server_responses_total 'status="302"')"
counted0="$(metric biogate_clicks_counted_total)"
log "measuring: reads ~$READ_RATE/s, webhooks ~$WEBHOOK_RATE/s, clicks ~$CLICK_RATE/s for $DURATION"
start_loads "$DURATION_S" run "$TMP_DIR/requests"
wait_loads run
kill -0 "$BIOGATE_PID" 2>/dev/null || { tail -n 20 "$TMP_DIR/biogate.log" >&2; die "the gateway stopped during the load"; }
# The masters' figures cover the load's window: taken as soon as it ends.
for ((i = 0; i < MASTERS; i++)); do
  p=$((CLUSTER_PORT + i))
  master_stats "$p" >"$TMP_DIR/cmd-$p.txt"
  redis-cli -p "$p" INFO stats | tr -d '\r' | awk -F: '$1 == "total_commands_processed" {print $2 + 0}' >"$TMP_DIR/total-$p.txt"
  redis-cli -p "$p" DBSIZE >"$TMP_DIR/keys-$p.txt"
done
reads_by_result >"$TMP_DIR/reads-after.txt"
backlog="$(metric biogate_stream_backlog 'stream="events"')"
counted="$(( $(metric biogate_clicks_counted_total) - counted0 ))"
redirects="$(( $(metric biogate_http_server_responses_total 'status="302"') - redirects0 ))"

# ---- report ---------------------------------------------------------------------
total=0
for ((i = 0; i < MASTERS; i++)); do total=$((total + $(cat "$TMP_DIR/total-$((CLUSTER_PORT + i)).txt"))); done
(( total > 0 )) || die "the masters served no commands"

load_row() {  # load_row NAME FILE OFFERED CONNECTIONS
  local rps p99 non2xx errors
  rps="$(wrk_stat "$2" rps)"; p99="$(wrk_stat "$2" p99)"
  non2xx="$(wrk_stat "$2" non2xx)"; errors="$(wrk_stat "$2" socket_errors)"
  [[ -n "$rps" && -n "$p99" ]] || { cat "$2" >&2; die "could not parse wrk output for $1"; }
  printf '| %s | %s | ~%s/s | %s | %s ms | %s | %s |\n' "$1" "$4" "$3" "$rps" "$(to_ms "$p99")" "${non2xx:-0}" "${errors:-0}"
}

{
  echo "biogate commands per master under mixed load, $STAMP"
  echo "host: $(uname -srm), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); $("$WRK_BIN" -v 2>&1 | head -n 1 | awk '{print $1, $2}')"
  echo "$MASTERS-master Redis Cluster ($(redis-server --version | sed -E 's/.*v=([^ ]+).*/Redis \1/'), no replicas, slots split evenly) on 127.0.0.1:$CLUSTER_PORT..; one gateway, its in-process sandbox serving $CREATORS generated creators, upstream budget 90/min"
  echo "DURATION=$DURATION WARMUP_DURATION=$WARMUP_DURATION HOT=$HOT HOT_PCT=$HOT_PCT; wrk -t$WRK_THREADS per load, each connection pausing after each answer"
  echo
  echo "| load | connections | offered | req/s | p99 | non-2xx/3xx | socket errors |"
  echo "|---|---|---|---|---|---|---|"
  load_row "profile reads ($HOT_PCT % of $HOT popular creators, rest long tail)" "$TMP_DIR/run-reads.txt" "$READ_RATE" "$READ_CONNECTIONS"
  load_row "Linktree webhook deliveries (signed, each new)" "$TMP_DIR/run-webhooks.txt" "$WEBHOOK_RATE" "$WEBHOOK_CONNECTIONS"
  load_row "click redirects ($HOT creators x $LINKS links)" "$TMP_DIR/run-clicks.txt" "$CLICK_RATE" "$CLICK_CONNECTIONS"
  echo
  echo "webhooks: $(lua_stat "$TMP_DIR/run-webhooks.txt" "webhook received") received, $(lua_stat "$TMP_DIR/run-webhooks.txt" "webhook duplicate") duplicate, $(lua_stat "$TMP_DIR/run-webhooks.txt" "webhook other") other; events backlog at the end $backlog"
  echo "profile reads by how the gateway answered them: $(awk 'NR == FNR { b[$1] = $2; next } $2 - b[$1] > 0 { printf "%s%s %d", (n++ ? ", " : ""), $1, $2 - b[$1] }' "$TMP_DIR/reads-before.txt" "$TMP_DIR/reads-after.txt")"
  echo "clicks: $redirects redirects answered 302 during the load, $counted clicks counted by its end"
  echo
  echo "commands per master during the ${DURATION} load (INFO stats total_commands_processed after CONFIG RESETSTAT, commands run"
  echo "inside scripts included; top commands from INFO commandstats; keys held at the end):"
  echo
  echo "| master | commands | share | keys held | top commands (calls) |"
  echo "|---|---|---|---|---|"
  for ((i = 0; i < MASTERS; i++)); do
    p=$((CLUSTER_PORT + i))
    c="$(cat "$TMP_DIR/total-$p.txt")"
    top="$(head -n "$TOP_COMMANDS" "$TMP_DIR/cmd-$p.txt" | awk '{ printf "%s%s %d", (NR > 1 ? ", " : ""), $2, $1 }')"
    printf '| %s (%d) | %d | %s %% | %s | %s |\n' "$i" "$p" "$c" \
      "$(awk -v c="$c" -v t="$total" 'BEGIN { printf "%.1f", 100 * c / t }')" "$(cat "$TMP_DIR/keys-$p.txt")" "$top"
  done
  echo "| all | $total | 100 % | | |"
  echo
  busiest=0
  for ((i = 0; i < MASTERS; i++)); do
    c="$(cat "$TMP_DIR/total-$((CLUSTER_PORT + i)).txt")"; (( c > busiest )) && busiest=$c
  done
  printf 'busiest master: %s %% of all commands (an even spread over %d masters: %s %%)\n' \
    "$(awk -v c="$busiest" -v t="$total" 'BEGIN { printf "%.1f", 100 * c / t }')" "$MASTERS" \
    "$(awk -v m="$MASTERS" 'BEGIN { printf "%.1f", 100 / m }')"
} | tee "$RESULT_FILE"
log "results written to $RESULT_FILE"
