#!/usr/bin/env bash
# Click lag under sustained redirects: one zero-config gateway takes RATE
# redirects/s (GET /r/demo/lnk_demo_NN, paced wrk) for DURATION while a sampler
# reads /metrics every second: redirects answered, click journal depth, events
# queued in memory, click stream length, clicks counted, and the counter lag (how
# long ago the click now being counted was answered). After the load it keeps
# sampling until the counters catch up (at most DRAIN_TIMEOUT). Prints the lag
# curve, then the summary last. Loopback only, bounded in time; stops what it
# started. See bench/README.md.
#
#   bench/clicks.sh                                  # 20,000/s for 2 minutes
#   RATE=5000 DURATION=30s bench/clicks.sh
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$SCRIPT_DIR/common.sh"

RATE="${RATE:-20000}"
DURATION="${DURATION:-2m}"
CONNECTIONS="${CONNECTIONS:-200}"
WRK_THREADS="${WRK_THREADS:-2}"
DRAIN_TIMEOUT="${DRAIN_TIMEOUT:-120}"
LAG_GOAL_S="${LAG_GOAL_S:-5}"
BIOGATE_HTTP_PORT="${BIOGATE_HTTP_PORT:-18580}"
BIOGATE_SANDBOX_PORT="${BIOGATE_SANDBOX_PORT:-18590}"
PROFILE=demo

[[ "$RATE" =~ ^[1-9][0-9]*$ ]] || die "RATE must be a positive integer"
[[ "$CONNECTIONS" =~ ^[1-9][0-9]*$ ]] || die "CONNECTIONS must be a positive integer"
DURATION_S="$(duration_seconds "$DURATION")"
need_tools wrk curl
DELAY_MS=$(( CONNECTIONS * 1000 / RATE ))
(( DELAY_MS >= 1 )) || die "RATE too high for $CONNECTIONS connections (raise CONNECTIONS)"

install_traps
make_tmp_dir
mkdir -p "$RESULTS_DIR"
RESULT_FILE="$RESULTS_DIR/$(date -u +%Y%m%dT%H%M%SZ)-clicks.txt"
export BIOGATE_CLICK_JOURNAL="$TMP_DIR/clicks.journal"
# Readers arrive through a trusted loopback proxy, each with its own address (see clicks.lua).
BIOGATE_CONFIG="${BIOGATE_CONFIG:-$SCRIPT_DIR/clicks.json}"
start_biogate
BASE="http://127.0.0.1:$BIOGATE_HTTP_PORT"
# A browser reader through the trusted proxy, so the probe is a click counted like the load's.
code="$(http_code "$BASE/r/demo/lnk_demo_01" -A "Mozilla/5.0 bench-probe" -H "X-Forwarded-For: 10.255.255.254")"
[[ "$code" == 302 ]] || die "GET /r/demo/lnk_demo_01 answers $code, not 302"

# sample T: one line "T redirects journal queued stream recorded counted"
sample() {
  curl -s --max-time 5 "$MANAGEMENT_BASE/metrics" | awk -v t="$1" '
    /^#/ { next }
    { split($1, a, "{"); n = a[1]; v = $NF + 0 }
    n == "biogate_http_server_responses_total" && index($1, "route=\"/r/:username/:linkId\"") && index($1, "status=\"302\"") { red += v }
    n == "biogate_clicks_journal_depth" { jd += v }
    n == "biogate_clicks_queued" { q += v }
    n == "biogate_clicks_stream_length" { sl += v }
    n == "biogate_clicks_recorded_total" { rec += v }
    n == "biogate_clicks_counted_total" { cnt += v }
    END { printf "%s %d %d %d %d %d %d\n", t, red, jd, q, sl, rec, cnt }'
}

SAMPLES="$TMP_DIR/samples.txt"
: >"$SAMPLES"
log "offering about $RATE redirects/s for $DURATION ($CONNECTIONS connections, each pausing ${DELAY_MS} ms at first, then steered to the rate)"
timeout "$((DURATION_S + 30))" "$WRK_BIN" -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency \
  -s "$SCRIPT_DIR/clicks.lua" "$BASE" -- "$DELAY_MS" 25 0 "$(( RATE / WRK_THREADS ))" >"$TMP_DIR/wrk.txt" 2>&1 &
WRK_PID=$!
start_ns="$(date +%s%N)"
# CPU per redirect over the load: the gateway's, and its private redis-server's when it runs one (a child process).
REDIS_PID="$(pgrep -P "$BIOGATE_PID" redis-server | head -n 1 || true)"
gw_ticks0="$(cpu_ticks "$BIOGATE_PID")"
redis_ticks0="$([[ -n "$REDIS_PID" ]] && cpu_ticks "$REDIS_PID" || echo 0)"
gw_ticks=""
next=0
drain_until=""
while :; do
  now_s=$(( ($(date +%s%N) - start_ns) / 1000000000 ))
  if (( now_s >= next )); then
    sample "$now_s" >>"$SAMPLES"
    next=$((now_s + 1))
    read -r _ red jd q sl rec cnt < <(tail -n 1 "$SAMPLES")
    printf '[bench] %4ss redirects %9s  counted %9s  journal %6s  queued %6s  stream %7s\n' \
      "$now_s" "$red" "$cnt" "$jd" "$q" "$sl" >&2
  fi
  if [[ -n "$WRK_PID" ]] && ! kill -0 "$WRK_PID" 2>/dev/null; then
    wait "$WRK_PID" || true
    WRK_PID=""
    gw_ticks=$(( $(cpu_ticks "$BIOGATE_PID") - gw_ticks0 ))
    redis_ticks=$(( $([[ -n "$REDIS_PID" ]] && cpu_ticks "$REDIS_PID" || echo 0) - redis_ticks0 ))
    drain_until=$((now_s + DRAIN_TIMEOUT))
    log "load done; sampling until the counters catch up (at most ${DRAIN_TIMEOUT}s)"
  fi
  if [[ -n "$drain_until" ]]; then
    read -r _ red jd q sl rec cnt < <(tail -n 1 "$SAMPLES")
    if (( cnt >= red && jd == 0 && q == 0 )) || (( now_s >= drain_until )); then
      break
    fi
  fi
  sleep 0.2
done

# Lag at sample i: now minus the time of the first sample whose redirect count had reached
# what is counted now (the newest counted click was answered then, to 1 s resolution).
awk -v goal="$LAG_GOAL_S" -v load_s="$DURATION_S" '
  { t[NR] = $1; red[NR] = $2; jd[NR] = $3; q[NR] = $4; sl[NR] = $5; cnt[NR] = $7; n = NR }
  END {
    printf "%6s %10s %10s %8s %8s %9s %10s %7s\n", "t s", "redirect/s", "counted/s", "journal", "queued", "stream", "backlog", "lag s"
    j = 1; maxlag = 0; maxjd = 0; maxlag_load = 0
    for (i = 1; i <= n; i++) {
      while (j < i && red[j] < cnt[i]) j++
      lag = (cnt[i] >= red[i]) ? 0 : t[i] - t[j]
      if (lag > maxlag) maxlag = lag
      if (t[i] <= load_s && lag > maxlag_load) maxlag_load = lag
      if (jd[i] > maxjd) maxjd = jd[i]
      dt = (i > 1) ? t[i] - t[i - 1] : 1; if (dt <= 0) dt = 1
      rr = (i > 1) ? (red[i] - red[i - 1]) / dt : 0
      cr = (i > 1) ? (cnt[i] - cnt[i - 1]) / dt : 0
      if (t[i] <= load_s && i > 1) { sum_r += red[i] - red[i - 1]; span = t[i] }
      printf "%6d %10.0f %10.0f %8d %8d %9d %10d %7d\n", t[i], rr, cr, jd[i], q[i], sl[i], red[i] - cnt[i], lag
    }
    printf "\n"
    printf "redirects answered: %d (%.0f/s during the load); clicks counted: %d\n", red[n], (span > 0 ? sum_r / span : 0), cnt[n]
    printf "counter lag: max %d s during the load, max %d s overall, %d s at the end; journal depth max %d, %d at the end\n", maxlag_load, maxlag, lag, maxjd, jd[n]
    # Nothing answered, or fewer clicks counted than answered, is a miss whatever the lag says.
    ok = red[n] > 0 && cnt[n] >= red[n] && maxlag < goal && maxjd == 0
    printf "goal (redirects answered and all counted, lag < %d s, journal depth 0): %s\n", goal, ok ? "met" : "MISS"
  }' "$SAMPLES" >"$TMP_DIR/curve.txt"
{
  echo "biogate click lag, $(date -u +%FT%TZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION -s clicks.lua (pause per connection steered from ${DELAY_MS} ms towards $RATE/s offered) against /r/demo/lnk_demo_NN"
  awk '/Requests\/sec|Latency|99%|Non-2xx|Socket errors/' "$TMP_DIR/wrk.txt"
  answered="$(awk '/requests in/ {print $1}' "$TMP_DIR/wrk.txt")"
  awk -v g="${gw_ticks:-0}" -v r="${redis_ticks:-0}" -v n="${answered:-0}" -v hz="$(getconf CLK_TCK)" -v own="$REDIS_PID" 'BEGIN {
    if (n > 0) printf "CPU per answered request during the load: gateway %.1f us%s\n", g / hz * 1e6 / n,
      (own != "" ? sprintf(", its redis-server %.1f us", r / hz * 1e6 / n) : " (Redis not the gateway'"'"'s own: not measured)") }'
  echo
  cat "$TMP_DIR/curve.txt"
} | tee "$RESULT_FILE"
log "results written to $RESULT_FILE"
