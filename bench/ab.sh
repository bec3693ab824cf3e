#!/usr/bin/env bash
# A/B of gateway builds or JVM flags on the cached profile read: every variant
# runs as its own zero-config process (own port, private Redis, sandbox), all
# are warmed, then wrk runs against them in turn, round after round, and the
# medians and the ratios to the first variant are printed last. Loopback only,
# bounded in time; stops what it started. See bench/README.md.
#
#   VARIANTS="base new" \
#   VARIANT_base_JAR=/tmp/biogate-before.jar \
#   VARIANT_new_OPTS="-XX:+UseParallelGC" bench/ab.sh
#
# Per variant NAME: VARIANT_NAME_JAR (default target/biogate.jar), VARIANT_NAME_OPTS
# (JVM flags), VARIANT_NAME_JAVA (java binary, default JAVA_BIN or java),
# VARIANT_NAME_ENV (extra "KEY=value ..." environment, e.g. BIOGATE_HTTP_INSTANCES=1).
# WRK_SCRIPT: a wrk Lua script for every request (e.g. bench/readers.lua with
# BIOGATE_CONFIG=bench/clicks.json: each request from a reader of its own).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$SCRIPT_DIR/common.sh"

VARIANTS="${VARIANTS:-a b}"
ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-8s}"
CONNECTIONS="${CONNECTIONS:-64 256}"
WRK_THREADS="${WRK_THREADS:-2}"
WARMUP_DURATION="${WARMUP_DURATION:-8s}"
BASE_PORT="${BASE_PORT:-18180}"               # variant i: http BASE_PORT+2i, sandbox +1, management +100

[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
DURATION_S="$(duration_seconds "$DURATION")"
WARMUP_S="$(duration_seconds "$WARMUP_DURATION")"
need_tools wrk curl

install_traps
make_tmp_dir
RAW="$TMP_DIR/raw.tsv"
: >"$RAW"
mkdir -p "$RESULTS_DIR"
RESULT_FILE="$RESULTS_DIR/$(date -u +%Y%m%dT%H%M%SZ)-ab.txt"
[[ -f "$ROOT_DIR/target/biogate.jar" ]] || (cd "$ROOT_DIR" && mvn -B -q package -DskipTests)

declare -A URL=()
declare -A PID=()
i=0
for v in $VARIANTS; do
  [[ "$v" =~ ^[A-Za-z0-9_]+$ ]] || die "variant names are letters, digits and _ ('$v')"
  jar_var="VARIANT_${v}_JAR"; opts_var="VARIANT_${v}_OPTS"; java_var="VARIANT_${v}_JAVA"; env_var="VARIANT_${v}_ENV"
  jar="${!jar_var:-$ROOT_DIR/target/biogate.jar}"; opts="${!opts_var:-}"; jbin="${!java_var:-$JAVA_BIN}"; extra="${!env_var:-}"
  [[ -f "$jar" ]] || die "$jar_var=$jar does not exist"
  http=$((BASE_PORT + 2 * i)); sandbox=$((BASE_PORT + 2 * i + 1)); management=$((BASE_PORT + 2 * i + 100))
  for p in "$http" "$sandbox" "$management"; do port_free "$p" || die "port $p is in use (set BASE_PORT)"; done
  read -r -a o <<<"$opts"; read -r -a e <<<"$extra"
  log "starting $v: $jbin ${opts} -jar $jar ${extra:+(env $extra)} on 127.0.0.1:$http"
  env BIOGATE_HTTP_HOST=127.0.0.1 BIOGATE_HTTP_PORT="$http" BIOGATE_SANDBOX_PORT="$sandbox" \
    BIOGATE_MANAGEMENT_HOST=127.0.0.1 BIOGATE_MANAGEMENT_PORT="$management" \
    BIOGATE_CONFIG="${BIOGATE_CONFIG:-$ROOT_DIR/bench/loopback.json}" "${e[@]}" \
    "$jbin" "${o[@]}" -jar "$jar" >"$TMP_DIR/$v.log" 2>&1 &
  EXTRA_PIDS+=("$!")
  PID[$v]="$!"
  URL[$v]="http://127.0.0.1:$http/v1/profiles/$PROFILE"
  i=$((i + 1))
done
deadline=$((SECONDS + STARTUP_TIMEOUT))
for v in $VARIANTS; do
  until [[ "$(http_code "${URL[$v]}")" == 200 ]]; do
    (( SECONDS < deadline )) || { tail -n 30 "$TMP_DIR/$v.log" >&2; die "$v not ready after ${STARTUP_TIMEOUT}s"; }
    sleep 0.5
  done
done
for v in $VARIANTS; do
  log "warming $v (${WARMUP_DURATION})"
  run_bounded "$((WARMUP_S + 30))" "$TMP_DIR/warm-$v.txt" "$WRK_BIN" -t"$WRK_THREADS" -c64 -d"$WARMUP_DURATION" \
      ${WRK_SCRIPT:+-s "$WRK_SCRIPT"} "${URL[$v]}" \
    || die "warm-up of $v failed"
done

{
  echo "A/B on the cached read, $(date -u +%FT%TZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "wrk -t$WRK_THREADS -c{${CONNECTIONS// /,}} -d$DURATION --latency; $ROUNDS rounds, variants in turn"
  for v in $VARIANTS; do
    jar_var="VARIANT_${v}_JAR"; opts_var="VARIANT_${v}_OPTS"; java_var="VARIANT_${v}_JAVA"; env_var="VARIANT_${v}_ENV"
    echo "  $v: ${!java_var:-$JAVA_BIN} ${!opts_var:-} -jar ${!jar_var:-target/biogate.jar} ${!env_var:-}"
  done
} | tee "$RESULT_FILE"
for ((round = 1; round <= ROUNDS; round++)); do
  for conns in $CONNECTIONS; do
    # The order rotates each round so no variant always runs right after the same one.
    set -- $VARIANTS
    for ((k = 0; k < round - 1; k++)); do set -- "${@:2}" "$1"; done
    for v in "$@"; do
      out="$TMP_DIR/wrk-$round-$v-$conns.txt"
      before="$(cpu_ticks "${PID[$v]}")"
      run_bounded "$((DURATION_S + 30))" "$out" "$WRK_BIN" -t"$WRK_THREADS" -c"$conns" -d"$DURATION" --latency \
          ${WRK_SCRIPT:+-s "$WRK_SCRIPT"} "${URL[$v]}" \
        || { cat "$out" >&2; die "wrk failed against $v"; }
      rps="$(wrk_stat "$out" rps)"
      # The gateway JVM's CPU (user + system) per answered request, in microseconds: steadier than req/s on a
      # machine whose neighbours come and go, since it does not depend on how much CPU the run was given.
      cpu="$(awk -v t="$(( $(cpu_ticks "${PID[$v]}") - before ))" -v hz="$(getconf CLK_TCK)" \
        -v n="$(awk '/requests in/ {print $1}' "$out")" 'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0) }')"
      p50="$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")"
      p99="$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")"
      bad="$(awk '/Non-2xx|Socket errors/ {print "yes"}' "$out" | head -n 1)"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$v" "$conns" "$rps" "$p50" "$p99" "${bad:-no}" "$cpu" >>"$RAW"
      printf '  round %s  %-12s c=%-4s %10s req/s  p50 %8s ms  p99 %8s ms  cpu %6s us/req%s\n' "$round" "$v" "$conns" "$rps" "$p50" "$p99" "$cpu" \
        "$([[ -n "$bad" ]] && echo '  (errors)')" | tee -a "$RESULT_FILE"
    done
  done
done

med() { awk -F '\t' -v v="$1" -v c="$2" -v f="$3" '$2 == v && $3 == c { print $f }' "$RAW" | sort -g |
  awk '{ a[NR] = $1 } END { if (NR % 2) printf "%.3f", a[(NR + 1) / 2]; else printf "%.3f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
first="${VARIANTS%% *}"
{
  echo
  echo "medians over $ROUNDS rounds; ratios to '$first' (req/s above 1 = faster; p99 and cpu below 1 = better)"
  echo "cpu: the gateway JVM's user + system CPU per answered request (microseconds)"
  printf '%-12s %6s %10s %9s %9s %8s %8s %8s %8s\n' variant conns "req/s" "p50 ms" "p99 ms" "cpu us" "x req/s" "x p99" "x cpu"
  for conns in $CONNECTIONS; do
    for v in $VARIANTS; do
      r="$(med "$v" "$conns" 4)"; q="$(med "$v" "$conns" 6)"; c="$(med "$v" "$conns" 8)"
      printf '%-12s %6s %10.0f %9s %9s %8s %8s %8s %8s\n' "$v" "$conns" "$r" "$(med "$v" "$conns" 5)" "$q" "$c" \
        "$(awk -v a="$r" -v b="$(med "$first" "$conns" 4)" 'BEGIN { printf "%.3f", a / b }')" \
        "$(awk -v a="$q" -v b="$(med "$first" "$conns" 6)" 'BEGIN { printf "%.3f", a / b }')" \
        "$(awk -v a="$c" -v b="$(med "$first" "$conns" 8)" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')"
    done
  done
} | tee -a "$RESULT_FILE"
log "results written to $RESULT_FILE"
