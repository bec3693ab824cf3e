#!/usr/bin/env bash
# Memory with many cached profiles: one gateway process reads PROFILES distinct
# generated profiles from a sandbox (its own process, limits raised) until its
# L1 holds them all, then reports the gateway's RSS, heap and direct memory,
# also after a stretch of random reads over all of them. Loopback only, bounded
# in time; stops what it started. See bench/README.md.
#
#   bench/memory.sh                                   # 100,000 profiles, default JVM flags
#   JAVA_OPTS="-Xms160m -Xmx160m -XX:MaxDirectMemorySize=320m" bench/memory.sh
#   JAVA_BIN=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java bench/memory.sh
#   HISTOGRAM=1 PROFILES=5000 bench/memory.sh          # also list the live heap by class
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$SCRIPT_DIR/common.sh"

PROFILES="${PROFILES:-100000}"
SYNTHETIC_LINKS="${SYNTHETIC_LINKS:-8}"        # links per generated profile (one upstream page)
BIOGATE_CMD=""
SANDBOX_JAVA_OPTS="${SANDBOX_JAVA_OPTS:-}"
BIOGATE_HTTP_PORT="${BIOGATE_HTTP_PORT:-18280}"
SANDBOX_PORT="${SANDBOX_PORT:-18290}"          # the sandbox process
BIOGATE_SANDBOX_PORT="${BIOGATE_SANDBOX_PORT:-18291}"  # must be free, unused: the gateway starts no sandbox of its own
CONNECTIONS="${CONNECTIONS:-32}"
WRK_THREADS="${WRK_THREADS:-2}"
LOAD_TIMEOUT="${LOAD_TIMEOUT:-600}"            # seconds allowed to load all profiles
READ_DURATION="${READ_DURATION:-20s}"          # random reads over all profiles after loading (0 = skip)
PROFILE=demo

[[ "$PROFILES" =~ ^[1-9][0-9]*$ ]] || die "PROFILES must be a positive integer"
[[ "$LOAD_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "LOAD_TIMEOUT must be seconds"
need_tools wrk curl
command -v "$JAVA_BIN" >/dev/null 2>&1 || die "$JAVA_BIN not found"
command -v jcmd >/dev/null 2>&1 || log "jcmd not found: heap figures will be missing"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

install_traps
make_tmp_dir
mkdir -p "$RESULTS_DIR"
RESULT_FILE="$RESULTS_DIR/$(date -u +%Y%m%dT%H%M%SZ)-memory.txt"
if [[ ! -f "$BIOGATE_JAR" ]]; then
  (cd "$ROOT_DIR" && mvn -B -q package -DskipTests)
fi
[[ -f "$BIOGATE_JAR" ]] || die "$BIOGATE_JAR missing"
for p in "$BIOGATE_HTTP_PORT" "$SANDBOX_PORT"; do
  port_free "$p" || die "port $p on 127.0.0.1 is in use"
done

# 1. The sandbox, in its own JVM so that the gateway's figures are the gateway's alone.
start_sandbox "{\"sandbox\": {\"host\": \"127.0.0.1\", \"port\": $SANDBOX_PORT, \"rateLimitPerMin\": 10000000,
  \"syntheticProfiles\": $PROFILES, \"syntheticLinks\": $SYNTHETIC_LINKS}}"
log "sandbox up on 127.0.0.1:$SANDBOX_PORT with $PROFILES generated profiles"

# 2. The gateway: its private Redis, the sandbox as upstream, the upstream budget raised for the load.
export LINKTREE_API_BASE="http://127.0.0.1:$SANDBOX_PORT"
export LINKTREE_API_TOKEN=sandbox-token
export LINKTREE_RATE_LIMIT_PER_MIN="${LINKTREE_RATE_LIMIT_PER_MIN:-100000}"
# Every generated name is new to the gateway: without a full first-sight share the loading would be held to that
# lane's fifth of the budget, and with the default freshness the sweep would spend the budget refreshing what it
# loaded a minute before. Memory is the question here, not admission (bench/flood.sh measures that).
BIOGATE_CONFIG="${BIOGATE_CONFIG:-$SCRIPT_DIR/memory.json}"
start_biogate
GW="$BIOGATE_PID"
RSS_IDLE="$(rss_kib "$GW")"
log "gateway RSS after start-up: $(mib "$RSS_IDLE") MiB"

# 3. Load every profile once (more passes if some misses were refused), then stop.
log "loading $PROFILES profiles (at most ${LOAD_TIMEOUT}s; the upstream budget is $LINKTREE_RATE_LIMIT_PER_MIN/min)"
start_load=$SECONDS
timeout "$((LOAD_TIMEOUT + 10))" "$WRK_BIN" -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${LOAD_TIMEOUT}s" --timeout 10s \
  -s "$SCRIPT_DIR/profiles.lua" "http://127.0.0.1:$BIOGATE_HTTP_PORT" -- "$PROFILES" sweep "$WRK_THREADS" \
  >"$TMP_DIR/load.txt" 2>&1 &
WRK_PID=$!
held=0
while kill -0 "$WRK_PID" 2>/dev/null; do
  sleep 2
  held="$(metric biogate_profile_l1_entries)"
  printf '[bench]   %4ss  L1 entries %8s  RSS %7s MiB\n' "$((SECONDS - start_load))" "$held" "$(mib "$(rss_kib "$GW")")" >&2
  if (( held >= PROFILES )); then break; fi
done
stop_pid "$WRK_PID" wrk TERM
WRK_PID=""
load_s=$((SECONDS - start_load))
held="$(metric biogate_profile_l1_entries)"
(( held >= PROFILES )) || log "WARNING: only $held of $PROFILES profiles in L1 after ${load_s}s"
sleep 5
RSS_LOADED="$(rss_kib "$GW")"

# 4. Random reads over all of them (every one a hit): the memory of a gateway serving its whole cache.
READ_LINE=""
if [[ "$READ_DURATION" != 0 ]]; then
  rd="$(duration_seconds "$READ_DURATION")"
  run_bounded "$((rd + 30))" "$TMP_DIR/read.txt" "$WRK_BIN" -t"$WRK_THREADS" -c64 -d"$READ_DURATION" --latency \
    -s "$SCRIPT_DIR/profiles.lua" "http://127.0.0.1:$BIOGATE_HTTP_PORT" -- "$PROFILES" random "$WRK_THREADS" \
    || { cat "$TMP_DIR/read.txt" >&2; die "random-read wrk run failed"; }
  READ_LINE="$(awk '/^Requests\/sec:/ {r = $2} $1 == "99%" {p = $2} /Non-2xx/ {e = $NF} END { printf "%s req/s, p99 %s, non-2xx %s", r, p, e + 0 }' "$TMP_DIR/read.txt")"
fi
RSS_READ="$(rss_kib "$GW")"
HELD_AFTER="$(metric biogate_profile_l1_entries)"
DIRECT="$(metric jvm_buffer_memory_used_bytes 'id="direct"')"
HEAP_USED="$(metric jvm_memory_used_bytes 'area="heap"')"
HEAP_COMMITTED="$(metric jvm_memory_committed_bytes 'area="heap"')"
NONHEAP_COMMITTED="$(metric jvm_memory_committed_bytes 'area="nonheap"')"
HEAP_AFTER_GC=""
if command -v jcmd >/dev/null 2>&1; then
  # GC.class_histogram runs a full GC first, then lists live objects by class.
  jcmd "$GW" GC.class_histogram >"$TMP_DIR/histogram.txt" 2>&1 || true
  sleep 2
  HEAP_AFTER_GC="$(metric jvm_memory_used_bytes 'area="heap"')"
fi
RSS_GC="$(rss_kib "$GW")"
REDIS_RSS=0
for c in $(ps -o pid= --ppid "$GW" 2>/dev/null); do REDIS_RSS=$((REDIS_RSS + $(rss_kib "$c"))); done

{
  echo "biogate memory with $PROFILES cached profiles, $(date -u +%FT%TZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "gateway: $("$JAVA_BIN" -version 2>&1 | head -n 1), flags: ${JAVA_OPTS:-(none)}"
  echo "profiles: synth-0 .. synth-$((PROFILES - 1)), $SYNTHETIC_LINKS links each, $(curl -s --max-time 5 "http://127.0.0.1:$BIOGATE_HTTP_PORT/v1/profiles/synth-0" | wc -c) bytes (synth-0)"
  echo "loaded in ${load_s}s with wrk -t$WRK_THREADS -c$CONNECTIONS; L1 entries $held after loading, $HELD_AFTER at the end"
  [[ -n "$READ_LINE" ]] && echo "random reads over all profiles ($READ_DURATION, c64): $READ_LINE"
  echo
  printf '%-44s %10s\n' "gateway RSS after start-up (MiB)" "$(mib "$RSS_IDLE")"
  printf '%-44s %10s\n' "gateway RSS, all profiles loaded (MiB)" "$(mib "$RSS_LOADED")"
  printf '%-44s %10s\n' "gateway RSS after the random reads (MiB)" "$(mib "$RSS_READ")"
  printf '%-44s %10s\n' "gateway RSS after a full GC (MiB)" "$(mib "$RSS_GC")"
  printf '%-44s %10s\n' "heap used / committed (MiB)" "$(mib $((HEAP_USED / 1024))) / $(mib $((HEAP_COMMITTED / 1024)))"
  [[ -n "$HEAP_AFTER_GC" ]] && printf '%-44s %10s\n' "heap used after a full GC (MiB)" "$(mib $((HEAP_AFTER_GC / 1024)))"
  printf '%-44s %10s\n' "direct buffers (cached bodies) (MiB)" "$(mib $((DIRECT / 1024)))"
  printf '%-44s %10s\n' "non-heap committed (code, metaspace) (MiB)" "$(mib $((NONHEAP_COMMITTED / 1024)))"
  printf '%-44s %10s\n' "private redis-server RSS, L2 copies (MiB)" "$(mib "$REDIS_RSS")"
  if [[ "${HISTOGRAM:-0}" == 1 && -s "$TMP_DIR/histogram.txt" ]]; then
    echo
    echo "live heap by class after the full GC (top 20, jcmd GC.class_histogram):"
    sed -n '1,23p' "$TMP_DIR/histogram.txt" | tail -n +2
  fi
  echo
  peak=$(( RSS_LOADED > RSS_READ ? RSS_LOADED : RSS_READ ))
  printf 'RSS with %s cached profiles: %s MiB (goal <= 512 MiB: %s)\n' "$held" "$(mib "$peak")" \
    "$( (( peak <= 512 * 1024 )) && echo met || echo MISS)"
} | tee "$RESULT_FILE"
log "results written to $RESULT_FILE"
