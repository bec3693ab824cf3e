#!/usr/bin/env bash
# A random-name flood against the upstream budget: two client identities ask for
# names that exist nowhere, as fast as they can, for FLOOD_DURATION, while
#  - a first-time reader of a real profile arrives every PROBE_EVERY seconds (a new
#    reader, a never-read profile each time) and retries until it gets a 200: its
#    time to the first 200 is the figure that matters;
#  - the cached-read throughput of a hot profile is measured (wrk, CACHED_DURATION)
#    before the flood and during it.
# The sandbox plays Linktree in its own process with Linktree's real limit
# (100/min) and counts every upstream call; the gateway runs its default budget
# (90/min). Loopback only, bounded in time; stops what it started. See bench/README.md.
#
#   bench/flood.sh                                   # 60 s flood, 2 identities x 16 connections
#   FLOOD_DURATION=30s FLOOD_CONNECTIONS=64 bench/flood.sh
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"

FLOOD_DURATION="${FLOOD_DURATION:-60s}"
FLOOD_CONNECTIONS="${FLOOD_CONNECTIONS:-16}"  # per identity
CACHED_DURATION="${CACHED_DURATION:-10s}"
CACHED_CONNECTIONS="${CACHED_CONNECTIONS:-64}"
# Seconds between first-time readers. Never-seen names share 20 % of the budget (18/min by default) whoever asks,
# so readers arriving faster than that wait for the share whatever the flood does: 6 s (10/min) leaves the
# flood room to show what it takes.
PROBE_EVERY="${PROBE_EVERY:-6}"
PROBE_TIMEOUT="${PROBE_TIMEOUT:-60}"           # a reader gives up after this many seconds
WRK_THREADS="${WRK_THREADS:-1}"                # per wrk process (three run at once on the flood)
BIOGATE_JAR="${BIOGATE_JAR:-$ROOT_DIR/target/biogate.jar}"
BIOGATE_CMD="${BIOGATE_CMD:-}"
JAVA_BIN="${JAVA_BIN:-java}"
JAVA_OPTS="${JAVA_OPTS:-}"
SANDBOX_JAVA_OPTS="${SANDBOX_JAVA_OPTS:--Xmx256m}"
BIOGATE_HTTP_PORT="${BIOGATE_HTTP_PORT:-18680}"
BIOGATE_SANDBOX_PORT="${BIOGATE_SANDBOX_PORT:-18691}"  # must be free, unused: the gateway starts no sandbox
SANDBOX_PORT="${SANDBOX_PORT:-18690}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-90}"
RESULTS_DIR="${RESULTS_DIR:-$SCRIPT_DIR/results}"
KEEP_TMP="${KEEP_TMP:-0}"
PROFILE=synth-0

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$SCRIPT_DIR/common.sh"

FLOOD_S="$(duration_seconds "$FLOOD_DURATION")"
CACHED_S="$(duration_seconds "$CACHED_DURATION")"
(( CACHED_S + 10 < FLOOD_S )) || die "FLOOD_DURATION must exceed CACHED_DURATION by more than 10 s"
[[ "$PROBE_EVERY" =~ ^[1-9][0-9]*$ ]] || die "PROBE_EVERY must be a positive integer (seconds)"
command -v wrk >/dev/null 2>&1 || apt_install wrk
command -v curl >/dev/null 2>&1 || apt_install curl
command -v python3 >/dev/null 2>&1 || apt_install python3

install_traps
make_tmp_dir
mkdir -p "$RESULTS_DIR"
RESULT_FILE="$RESULTS_DIR/$(date -u +%Y%m%dT%H%M%SZ)-flood.txt"
[[ -f "$BIOGATE_JAR" ]] || die "$BIOGATE_JAR missing (mvn -B -q package -DskipTests)"
port_free "$SANDBOX_PORT" || die "port $SANDBOX_PORT on 127.0.0.1 is in use (set SANDBOX_PORT)"

# 1. Linktree, played by the sandbox in its own JVM, with the real limit: it referees.
start_sandbox "{\"sandbox\": {\"host\": \"127.0.0.1\", \"port\": $SANDBOX_PORT, \"rateLimitPerMin\": 100, \"syntheticProfiles\": 100000}}"

# 2. The gateway with its default budget; readers arrive through a trusted loopback proxy.
export LINKTREE_API_BASE="$SANDBOX"
export LINKTREE_API_TOKEN=sandbox-token
BIOGATE_CONFIG="${BIOGATE_CONFIG:-$SCRIPT_DIR/flood.json}"
start_biogate
BASE="http://127.0.0.1:$BIOGATE_HTTP_PORT"

cached_wrk() {  # cached_wrk OUTFILE: the hot profile, loopback (exempt), CACHED_DURATION
  timeout "$((CACHED_S + 30))" wrk -t2 -c"$CACHED_CONNECTIONS" -d"$CACHED_DURATION" --latency "$BASE/v1/profiles/$PROFILE" >"$1" 2>&1
}
wrk_field() {  # wrk_field FILE: "req/s p99_ms"
  local rps p99
  rps="$(awk '/^Requests\/sec/ { print $2 }' "$1")"
  p99="$(awk '$1 == "99%" { print $2 }' "$1")"
  echo "${rps:-0} $(to_ms "${p99:-0ms}")"
}
upstream_calls() {  # upstream_calls: "total flood rate_limited" from the sandbox's counters
  curl -s --max-time 5 "$SANDBOX/__sandbox/stats" | python3 -c '
import json, sys
s = json.load(sys.stdin)
flood = sum(v for k, v in s["by_path"].items() if "/rnd-" in k)
print(s["requests"], flood, s["rate_limited"])'
}

log "warming $PROFILE, then the cached read before the flood (${CACHED_DURATION}, c$CACHED_CONNECTIONS)"
for _ in 1 2 3; do http_code "$BASE/v1/profiles/$PROFILE" >/dev/null; done
timeout 20 wrk -t2 -c"$CACHED_CONNECTIONS" -d3s "$BASE/v1/profiles/$PROFILE" >/dev/null 2>&1 || true
cached_wrk "$TMP_DIR/before.txt"
read -r before_rps before_p99 < <(wrk_field "$TMP_DIR/before.txt")
read -r calls0 flood0 limited0 < <(upstream_calls)

log "flood: 2 identities x $FLOOD_CONNECTIONS connections of random names for $FLOOD_DURATION"
FLOOD_PIDS=()
for ip in 198.51.100.1 198.51.100.2; do
  timeout "$((FLOOD_S + 30))" wrk -t"$WRK_THREADS" -c"$FLOOD_CONNECTIONS" -d"$FLOOD_DURATION" --timeout 10s \
    -s "$SCRIPT_DIR/flood.lua" "$BASE" -- "$ip" >"$TMP_DIR/flood-$ip.txt" 2>&1 &
  FLOOD_PIDS+=("$!")
  EXTRA_PIDS+=("$!")
done
flood_start=$SECONDS

# First-time readers: each asks for a profile nobody read before, from an address of its own, and retries every
# 250 ms (as a browser's user would reload) until a 200 or PROBE_TIMEOUT.
probe() {  # probe N: prints "N ms_to_200 tries first_status"
  local n="$1" start now code tries=0 first=""
  start="$(date +%s%N)"
  while :; do
    tries=$((tries + 1))
    code="$(http_code "$BASE/v1/profiles/synth-$((1000 + n))" -H "X-Forwarded-For: 203.0.113.$((n % 250 + 1))")"
    [[ -n "$first" ]] || first="$code"
    now="$(date +%s%N)"
    if [[ "$code" == 200 ]]; then
      echo "$n $(( (now - start) / 1000000 )) $tries $first"
      return
    fi
    if (( (now - start) / 1000000000 >= PROBE_TIMEOUT )); then
      echo "$n timeout $tries $first"
      return
    fi
    sleep 0.25
  done
}
PROBES="$TMP_DIR/probes.txt"
: >"$PROBES"
(
  n=0
  while (( SECONDS - flood_start < FLOOD_S - PROBE_EVERY )); do
    probe "$n" >>"$PROBES" &
    n=$((n + 1))
    sleep "$PROBE_EVERY"
  done
  wait
) &
PROBER=$!
EXTRA_PIDS+=("$PROBER")

sleep $(( (FLOOD_S - CACHED_S) / 2 ))
log "cached read during the flood (${CACHED_DURATION}, c$CACHED_CONNECTIONS)"
cached_wrk "$TMP_DIR/during.txt"
read -r during_rps during_p99 < <(wrk_field "$TMP_DIR/during.txt")
for p in "${FLOOD_PIDS[@]}"; do wait "$p" || true; done
wait "$PROBER" || true
read -r calls1 flood1 limited1 < <(upstream_calls)

flood_requests=0
for ip in 198.51.100.1 198.51.100.2; do
  r="$(awk '/requests in/ { print $1 }' "$TMP_DIR/flood-$ip.txt")"
  flood_requests=$((flood_requests + ${r:-0}))
done

{
  echo "biogate random-name flood, $(date -u +%FT%TZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "flood: 2 identities x wrk -t$WRK_THREADS -c$FLOOD_CONNECTIONS -d$FLOOD_DURATION (random names); sandbox limit 100/min, gateway budget 90/min"
  echo
  printf '%-44s %s\n' "flood requests answered" "$flood_requests"
  printf '%-44s %s\n' "upstream calls during the flood (all)" "$((calls1 - calls0))"
  printf '%-44s %s\n' "upstream calls spent on flood names" "$((flood1 - flood0))"
  printf '%-44s %s\n' "upstream 429s during the flood" "$((limited1 - limited0))"
  printf '%-44s %s\n' "miss admissions: first_sight" "$(metric biogate_upstream_miss_admissions_total 'result="first_sight"')"
  printf '%-44s %s\n' "miss admissions: quota_exceeded (429)" "$(metric biogate_upstream_miss_admissions_total 'result="quota_exceeded"')"
  printf '%-44s %s\n' "first-sight permits denied (503)" "$(metric biogate_upstream_permits_total 'lane="first_sight",result="denied"')"
  echo
  echo "first-time readers of real profiles (one every ${PROBE_EVERY}s, retry every 250 ms until 200):"
  sort -n "$PROBES" | awk '{ printf "  reader %3d  %8s ms  %3d tries  first answer %s\n", $1, $2, $3, $4 }'
  awk '$2 != "timeout" { print $2 }' "$PROBES" | sort -n | awk -v total="$(wc -l <"$PROBES")" '
    { v[NR] = $1 } END {
      if (NR == 0) { printf "time to first 200: no reader got one (%d readers)\n", total; exit }
      p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1]
      printf "time to first 200: p50 %d ms, p99 %d ms, max %d ms; %d of %d readers served\n", p50, p99, v[NR], NR, total }'
  echo
  printf '%-44s %10s req/s  p99 %8s ms\n' "cached read before the flood" "$before_rps" "$before_p99"
  printf '%-44s %10s req/s  p99 %8s ms\n' "cached read during the flood" "$during_rps" "$during_p99"
  awk -v b="$before_rps" -v d="$during_rps" 'BEGIN { if (b > 0) printf "%-44s %.2f\n", "cached read during / before", d / b }'
} | tee "$RESULT_FILE"
log "results written to $RESULT_FILE"
