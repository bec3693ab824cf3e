#!/usr/bin/env bash
# Start-up time of the zero-config run: from launching `java -jar target/biogate.jar`
# (private Redis and the sandbox started by the gateway itself) to the first
# 200 answer to GET /v1/profiles/demo (a miss: it goes to the sandbox upstream).
# ROUNDS launches per java binary, alternating, medians printed last. Loopback
# only, bounded in time; stops what it started. See bench/README.md.
#
#   bench/startup.sh
#   JAVAS="java /usr/lib/jvm/temurin-25-jdk-amd64/bin/java" bench/startup.sh
#   JAVA_OPTS="-XX:TieredStopAtLevel=1" ROUNDS=7 bench/startup.sh
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$SCRIPT_DIR/common.sh"

JAVAS="${JAVAS:-${JAVA_BIN:-java}}"            # java binaries to compare, space-separated
ROUNDS="${ROUNDS:-5}"
BIOGATE_HTTP_PORT="${BIOGATE_HTTP_PORT:-18480}"
BIOGATE_SANDBOX_PORT="${BIOGATE_SANDBOX_PORT:-18490}"
BIOGATE_MANAGEMENT_PORT="${BIOGATE_MANAGEMENT_PORT:-$((BIOGATE_HTTP_PORT + 5))}"

[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
need_tools curl
[[ -f "$BIOGATE_JAR" ]] || (cd "$ROOT_DIR" && mvn -B -q package -DskipTests)
for j in $JAVAS; do command -v "$j" >/dev/null 2>&1 || die "$j not found"; done

install_traps
make_tmp_dir
mkdir -p "$RESULTS_DIR"
RESULT_FILE="$RESULTS_DIR/$(date -u +%Y%m%dT%H%M%SZ)-startup.txt"
RAW="$TMP_DIR/raw.tsv"
: >"$RAW"

stop_gateway() {
  local children c
  children="$(ps -o pid= --ppid "$BIOGATE_PID" 2>/dev/null | tr -s ' \n' ' ' || true)"
  stop_pid "$BIOGATE_PID" biogate TERM
  for c in $children; do stop_pid "$c" "biogate child" TERM; done
  BIOGATE_PID=""
}

# launch JAVA ROUND: prints milliseconds from launch to the first 200
launch() {
  local java="$1" round="$2" t0 t1 code deadline
  for p in "$BIOGATE_HTTP_PORT" "$BIOGATE_SANDBOX_PORT" "$BIOGATE_MANAGEMENT_PORT"; do
    port_free "$p" || die "port $p on 127.0.0.1 is in use (set BIOGATE_HTTP_PORT / BIOGATE_SANDBOX_PORT / BIOGATE_MANAGEMENT_PORT)"
  done
  local -a opts=()
  if [[ -n "$JAVA_OPTS" ]]; then read -r -a opts <<<"$JAVA_OPTS"; fi
  t0="$(date +%s%N)"
  BIOGATE_HTTP_HOST=127.0.0.1 BIOGATE_HTTP_PORT="$BIOGATE_HTTP_PORT" BIOGATE_SANDBOX_PORT="$BIOGATE_SANDBOX_PORT" \
    BIOGATE_MANAGEMENT_HOST=127.0.0.1 BIOGATE_MANAGEMENT_PORT="$BIOGATE_MANAGEMENT_PORT" \
    "$java" "${opts[@]}" -jar "$BIOGATE_JAR" >"$TMP_DIR/biogate-$round.log" 2>&1 &
  BIOGATE_PID=$!
  deadline=$((SECONDS + STARTUP_TIMEOUT))
  while :; do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$BIOGATE_HTTP_PORT/v1/profiles/demo" || true)"
    [[ "$code" == 200 ]] && break
    kill -0 "$BIOGATE_PID" 2>/dev/null || { tail -n 20 "$TMP_DIR/biogate-$round.log" >&2; die "biogate exited during start-up"; }
    (( SECONDS < deadline )) || die "no 200 within ${STARTUP_TIMEOUT}s"
    sleep 0.01
  done
  t1="$(date +%s%N)"
  stop_gateway
  echo $(( (t1 - t0) / 1000000 ))
}

{
  echo "biogate start-up (java -jar to the first 200 on /v1/profiles/demo, zero-config), $(date -u +%FT%TZ)"
  echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); flags: ${JAVA_OPTS:-(none)}; $ROUNDS rounds, JVMs in turn"
} | tee "$RESULT_FILE"
for ((round = 1; round <= ROUNDS; round++)); do
  for j in $JAVAS; do
    ms="$(launch "$j" "$round")"
    printf '%s\t%s\t%s\n' "$round" "$j" "$ms" >>"$RAW"
    printf '  round %s  %-50s %6s ms\n' "$round" "$j" "$ms" | tee -a "$RESULT_FILE"
  done
done
{
  echo
  echo "medians over $ROUNDS rounds"
  for j in $JAVAS; do
    med="$(awk -F '\t' -v j="$j" '$2 == j { print $3 }' "$RAW" | sort -n |
      awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }')"
    printf '%-50s %6s ms  (%s)\n' "$j" "$med" "$("$j" -version 2>&1 | head -n 1)"
  done
} | tee -a "$RESULT_FILE"
log "results written to $RESULT_FILE"
