#!/usr/bin/env bash
# Comparative benchmark: biogate's cached profile endpoint against (a) a raw
# Vert.x server writing the same bytes with the same headers
# (bench/rawvertx/RawServer.java), (b) nginx serving the same bytes as a static
# file and (c) nginx proxy_cache in front of the sandbox. Targets alternate
# within every round; medians, then the ratios, are printed last. All on
# loopback, bounded in time, and it stops only what it started. See
# bench/README.md.
#
#   bench/run.sh                                  # defaults: 3 rounds x 10 s x {64,256} connections
#   ROUNDS=5 DURATION=20s CONNECTIONS="32 128 512" bench/run.sh
#   TARGETS=nginx-static STATIC_FILE=/path/to/file.json bench/run.sh   # nginx alone, no biogate
#
# Needs: Debian/Ubuntu (nginx and wrk are apt-get installed when missing, which
# needs root or sudo), curl, Java 17 (and Maven if target/biogate.jar must be built).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"

# ---- knobs ----------------------------------------------------------------
BIOGATE_JAR="${BIOGATE_JAR:-$ROOT_DIR/target/biogate.jar}"
BIOGATE_CMD="${BIOGATE_CMD:-}"                 # overrides "java $JAVA_OPTS -jar $BIOGATE_JAR"
JAVA_OPTS="${JAVA_OPTS:-}"
BIOGATE_HTTP_PORT="${BIOGATE_HTTP_PORT:-18080}"
BIOGATE_SANDBOX_PORT="${BIOGATE_SANDBOX_PORT:-18090}"
NGINX_PORT="${NGINX_PORT:-18081}"
PROFILE="${PROFILE:-demo}"
SANDBOX_TOKEN="${SANDBOX_TOKEN:-sandbox-token}"
TARGETS="${TARGETS:-biogate raw-vertx nginx-static nginx-proxy-cache}"
RAW_PORT="${RAW_PORT:-18082}"
JAVA_BIN="${JAVA_BIN:-java}"                   # java for biogate and the raw Vert.x server
RAW_JAVA_OPTS="${RAW_JAVA_OPTS:-$JAVA_OPTS}"
RAW_EVENT_LOOPS="${RAW_EVENT_LOOPS:-$(nproc)}" # biogate's default: one HTTP event loop per core
STATIC_FILE="${STATIC_FILE:-}"                 # serve this file instead of biogate's bytes
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-64 256}"
WRK_THREADS="${WRK_THREADS:-2}"
WRK_TIMEOUT="${WRK_TIMEOUT:-5s}"
WARMUP_DURATION="${WARMUP_DURATION:-5s}"       # unrecorded wrk load per target before round 1 (0 = none)
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-90}"       # seconds to wait for biogate
RESULTS_DIR="${RESULTS_DIR:-$SCRIPT_DIR/results}"
KEEP_TMP="${KEEP_TMP:-0}"
NGINX_BIN="${NGINX_BIN:-}"
WRK_BIN="${WRK_BIN:-}"

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$SCRIPT_DIR/common.sh"

has_target() { case " $TARGETS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

for t in $TARGETS; do
  case "$t" in
    biogate|raw-vertx|nginx-static|nginx-proxy-cache) ;;
    *) die "unknown target '$t' in TARGETS (use biogate, raw-vertx, nginx-static, nginx-proxy-cache)" ;;
  esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
[[ "$WRK_THREADS" =~ ^[1-9][0-9]*$ ]] || die "WRK_THREADS must be a positive integer"
for c in $CONNECTIONS; do
  [[ "$c" =~ ^[1-9][0-9]*$ ]] || die "CONNECTIONS must be positive integers, got '$c'"
  (( c >= WRK_THREADS )) || die "each CONNECTIONS value must be >= WRK_THREADS ($WRK_THREADS)"
done
DURATION_S="$(duration_seconds "$DURATION")"
WARMUP_S=0
if [[ "$WARMUP_DURATION" != 0 ]]; then WARMUP_S="$(duration_seconds "$WARMUP_DURATION")"; fi

NEED_BIOGATE=0
if has_target biogate || has_target nginx-proxy-cache || [[ -z "$STATIC_FILE" ]]; then
  NEED_BIOGATE=1
fi
if [[ "$NEED_BIOGATE" == 0 && ! -r "$STATIC_FILE" ]]; then
  die "STATIC_FILE=$STATIC_FILE is not readable"
fi

# ---- tools ----------------------------------------------------------------
find_nginx() {
  if [[ -n "$NGINX_BIN" ]]; then echo "$NGINX_BIN"; return 0; fi
  command -v nginx 2>/dev/null && return 0
  [[ -x /usr/sbin/nginx ]] && { echo /usr/sbin/nginx; return 0; }
  return 1
}

ensure_tools() {
  local missing=()
  find_nginx >/dev/null || missing+=(nginx)
  if [[ -z "$WRK_BIN" ]] && ! command -v wrk >/dev/null 2>&1; then missing+=(wrk); fi
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  if (( ${#missing[@]} > 0 )); then
    apt_install "${missing[@]}"
  fi
  NGINX_BIN="$(find_nginx)" || die "nginx not found after install"
  WRK_BIN="${WRK_BIN:-$(command -v wrk)}"
  [[ -x "$WRK_BIN" ]] || die "wrk not found"
}

# ---- nginx ---------------------------------------------------------------------
start_nginx() {
  port_free "$NGINX_PORT" || die "port $NGINX_PORT on 127.0.0.1 is in use (set NGINX_PORT)"
  mkdir -p "$TMP_DIR/nginx/cache" "$TMP_DIR/nginx/temp" "$TMP_DIR/www"
  # nginx workers run as an unprivileged user when started by root: let them read and write here.
  chmod 755 "$TMP_DIR" "$TMP_DIR/www" "$TMP_DIR/nginx"
  chmod 777 "$TMP_DIR/nginx/cache" "$TMP_DIR/nginx/temp"
  chmod 644 "$TMP_DIR/www/$PROFILE.json"
  local proxy_block=""
  if has_target nginx-proxy-cache; then
    proxy_block="
    upstream sandbox {
        server 127.0.0.1:$BIOGATE_SANDBOX_PORT;
        keepalive 16;
    }
    proxy_cache_path $TMP_DIR/nginx/cache levels=1:2 keys_zone=bench:10m max_size=64m inactive=10m use_temp_path=off;"
  fi
  cat >"$TMP_DIR/nginx.conf" <<EOF
# generated by bench/run.sh; deleted after the run
daemon off;
worker_processes auto;
pid $TMP_DIR/nginx.pid;
error_log $TMP_DIR/nginx-error.log warn;

events {
    worker_connections 4096;
}

http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    server_tokens off;
    types { application/json json; }
    default_type application/json;
    client_body_temp_path $TMP_DIR/nginx/temp/client;
    proxy_temp_path $TMP_DIR/nginx/temp/proxy;
    fastcgi_temp_path $TMP_DIR/nginx/temp/fastcgi;
    uwsgi_temp_path $TMP_DIR/nginx/temp/uwsgi;
    scgi_temp_path $TMP_DIR/nginx/temp/scgi;
$proxy_block

    server {
        listen 127.0.0.1:$NGINX_PORT;

        # (a) the bytes biogate serves, as a static file
        location = /static/profiles/$PROFILE {
            alias $TMP_DIR/www/$PROFILE.json;
        }

        # (b) the sandbox's profile behind an nginx proxy_cache
        location = /cached/profiles/$PROFILE {
            proxy_pass http://sandbox/profiles/$PROFILE;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host 127.0.0.1:$BIOGATE_SANDBOX_PORT;
            proxy_set_header Authorization "Bearer $SANDBOX_TOKEN";
            proxy_set_header Accept application/json;
            proxy_cache bench;
            proxy_cache_key "profiles/$PROFILE";
            proxy_cache_valid 200 60s;
            proxy_cache_lock on;
            proxy_cache_use_stale updating error timeout;
            proxy_ignore_headers Cache-Control Expires Set-Cookie Vary;
            add_header X-Cache-Status \$upstream_cache_status always;
        }
    }
}
EOF
  if ! has_target nginx-proxy-cache; then
    # No sandbox to proxy to: drop location (b).
    sed -i '/# (b) the sandbox/,/^        }$/d' "$TMP_DIR/nginx.conf"
  fi
  "$NGINX_BIN" -t -q -p "$TMP_DIR/nginx" -c "$TMP_DIR/nginx.conf" 2>"$TMP_DIR/nginx-test.log" \
    || { cat "$TMP_DIR/nginx-test.log" >&2; die "nginx rejected the generated config"; }
  "$NGINX_BIN" -p "$TMP_DIR/nginx" -c "$TMP_DIR/nginx.conf" >"$TMP_DIR/nginx.out" 2>&1 &
  NGINX_PID=$!
  local i
  for ((i = 0; i < 50; i++)); do
    [[ "$(http_code "http://127.0.0.1:$NGINX_PORT/static/profiles/$PROFILE")" == 200 ]] && break
    kill -0 "$NGINX_PID" 2>/dev/null || { cat "$TMP_DIR/nginx.out" "$TMP_DIR/nginx-error.log" >&2 || true; die "nginx exited"; }
    sleep 0.1
  done
  log "nginx is up (pid $NGINX_PID, 127.0.0.1:$NGINX_PORT)"
}

# ---- raw Vert.x ------------------------------------------------------------------
# Same jar (for Vert.x and Netty), same java, same body and headers, same number
# of event loops; compiled from source at launch (Java 11+ single-file programs).
start_raw() {
  port_free "$RAW_PORT" || die "port $RAW_PORT on 127.0.0.1 is in use (set RAW_PORT)"
  [[ -f "$BIOGATE_JAR" ]] || die "raw-vertx needs $BIOGATE_JAR (for Vert.x on the class path)"
  local -a opts=()
  if [[ -n "$RAW_JAVA_OPTS" ]]; then read -r -a opts <<<"$RAW_JAVA_OPTS"; fi
  "$JAVA_BIN" "${opts[@]}" -cp "$BIOGATE_JAR" "$SCRIPT_DIR/rawvertx/RawServer.java" "$RAW_PORT" \
    "$TMP_DIR/www/$PROFILE.json" "$TMP_DIR/headers.txt" "$RAW_EVENT_LOOPS" >"$TMP_DIR/raw.log" 2>&1 &
  local pid=$!
  EXTRA_PIDS+=("$pid")
  local i
  for ((i = 0; i < 600; i++)); do
    [[ "$(http_code "${URLS[raw-vertx]}")" == 200 ]] && break
    kill -0 "$pid" 2>/dev/null || { cat "$TMP_DIR/raw.log" >&2; die "the raw Vert.x server exited"; }
    sleep 0.1
  done
  [[ "$(http_code "${URLS[raw-vertx]}")" == 200 ]] || { cat "$TMP_DIR/raw.log" >&2; die "the raw Vert.x server did not answer in 60 s"; }
  log "$(head -n 1 "$TMP_DIR/raw.log") (pid $pid)"
}

# ---- wrk -----------------------------------------------------------------------
declare -A URLS=()
URLS[biogate]="http://127.0.0.1:$BIOGATE_HTTP_PORT/v1/profiles/$PROFILE"
URLS[raw-vertx]="http://127.0.0.1:$RAW_PORT/v1/profiles/$PROFILE"
URLS[nginx-static]="http://127.0.0.1:$NGINX_PORT/static/profiles/$PROFILE"
URLS[nginx-proxy-cache]="http://127.0.0.1:$NGINX_PORT/cached/profiles/$PROFILE"

run_wrk() {  # run_wrk ROUND TARGET CONNECTIONS -> appends a line to $RAW
  local round="$1" target="$2" conns="$3" out rps p50 p99 non2xx errors
  out="$TMP_DIR/wrk-$round-$target-$conns.txt"
  if ! run_bounded "$((DURATION_S + 30))" "$out" "$WRK_BIN" -t"$WRK_THREADS" -c"$conns" -d"$DURATION" \
      --timeout "$WRK_TIMEOUT" --latency "${URLS[$target]}"; then
    cat "$out" >&2
    die "wrk failed against $target (${URLS[$target]})"
  fi
  rps="$(awk '/^Requests\/sec:/ {print $2}' "$out")"
  p50="$(awk '$1 == "50%" {print $2}' "$out")"
  p99="$(awk '$1 == "99%" {print $2}' "$out")"
  non2xx="$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")"
  errors="$(awk '/Socket errors:/ {s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) s += $i; print s}' "$out")"
  [[ -n "$rps" && -n "$p50" && -n "$p99" ]] || { cat "$out" >&2; die "could not parse wrk output for $target"; }
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$target" "$conns" "$rps" "$(to_ms "$p50")" "$(to_ms "$p99")" \
    "$(( ${non2xx:-0} + ${errors:-0} ))" >>"$RAW"
  printf '  round %s  %-18s c=%-4s %10s req/s  p50 %9s ms  p99 %9s ms%s\n' "$round" "$target" "$conns" "$rps" \
    "$(to_ms "$p50")" "$(to_ms "$p99")" "$( [[ "${non2xx:-0}${errors:-0}" != 00 ]] && echo "  (non-2xx ${non2xx:-0}, socket errors ${errors:-0})")" \
    | tee -a "$RESULT_FILE"
}

median() {  # median of the numbers on stdin
  sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
    if (NR % 2) printf "%.3f", a[(NR + 1) / 2]; else printf "%.3f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

col() {  # col TARGET CONNS FIELD -> median of that column over the rounds
  awk -F '\t' -v t="$1" -v c="$2" -v f="$3" '$2 == t && $3 == c { print $f }' "$RAW" | median
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.3g", a / b }'; }

# ---- main ----------------------------------------------------------------------
install_traps
ensure_tools
make_tmp_dir
RAW="$TMP_DIR/raw.tsv"
: >"$RAW"
mkdir -p "$RESULTS_DIR"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULT_FILE="$RESULTS_DIR/$STAMP.txt"

if [[ "$NEED_BIOGATE" == 1 ]]; then
  start_biogate
fi
mkdir -p "$TMP_DIR/www"
if [[ -n "$STATIC_FILE" ]]; then
  cp "$STATIC_FILE" "$TMP_DIR/www/$PROFILE.json"
  printf 'Content-Type: application/json\r\n' >"$TMP_DIR/headers.txt"
else
  # The exact bytes and headers biogate serves (no Accept-Encoding: identity, like wrk's requests).
  curl -sS --fail --max-time 10 -D "$TMP_DIR/headers.txt" -o "$TMP_DIR/www/$PROFILE.json" "${URLS[biogate]}"
fi
if has_target nginx-static || has_target nginx-proxy-cache; then
  start_nginx
fi
if has_target raw-vertx; then
  start_raw
fi

log "warming up"
for t in $TARGETS; do
  for _ in 1 2 3; do
    code="$(http_code "${URLS[$t]}")"
  done
  [[ "$code" == 200 ]] || die "warm-up GET ${URLS[$t]} answers $code"
done
if has_target nginx-proxy-cache; then
  cache_status="$(curl -s -o /dev/null -D - --max-time 5 "${URLS[nginx-proxy-cache]}" | awk -F': ' 'tolower($1) == "x-cache-status" {print $2}' | tr -d '\r')"
  [[ "$cache_status" == HIT ]] || log "warning: nginx proxy_cache answers X-Cache-Status '$cache_status', expected HIT"
fi

if (( WARMUP_S > 0 )); then
  # JIT-compiled targets (biogate) need load before they reach steady state.
  for t in $TARGETS; do
    log "warming $t with ${WARMUP_DURATION} of wrk load (not recorded)"
    run_bounded "$((WARMUP_S + 30))" "$TMP_DIR/warmup-$t.txt" "$WRK_BIN" -t"$WRK_THREADS" \
      -c"$(( WRK_THREADS > 64 ? WRK_THREADS : 64 ))" -d"$WARMUP_DURATION" "${URLS[$t]}" \
      || { cat "$TMP_DIR/warmup-$t.txt" >&2; die "warm-up wrk run against $t failed"; }
  done
fi

ncons=0; for _ in $CONNECTIONS; do ncons=$((ncons + 1)); done
ntargets=0; for _ in $TARGETS; do ntargets=$((ntargets + 1)); done
total=$(( ROUNDS * ncons * ntargets * DURATION_S ))

{
  echo "biogate comparative benchmark, $STAMP"
  echo "host: $(uname -srm), $(nproc) CPUs; $("$WRK_BIN" -v 2>&1 | head -n 1 | cut -c1-60); $("$NGINX_BIN" -v 2>&1)"
  echo "wrk -t$WRK_THREADS -c{${CONNECTIONS// /,}} -d$DURATION --latency; $ROUNDS rounds, targets in turn: $TARGETS"
  for t in $TARGETS; do
    printf '  %-18s %s (%s bytes)\n' "$t" "${URLS[$t]}" "$(curl -s --max-time 5 "${URLS[$t]}" | wc -c)"
  done
  echo "about ${total}s of load"
  echo
} | tee "$RESULT_FILE"

# Not a pipeline: signals must reach this shell while wrk runs (see run_bounded).
for ((round = 1; round <= ROUNDS; round++)); do
  for conns in $CONNECTIONS; do
    for t in $TARGETS; do
      run_wrk "$round" "$t" "$conns"
    done
  done
done

{
  echo
  echo "medians over $ROUNDS rounds"
  printf '%-18s %6s %12s %10s %10s %8s\n' target conns "req/s" "p50 ms" "p99 ms" errors
  for conns in $CONNECTIONS; do
    for t in $TARGETS; do
      errs="$(awk -F '\t' -v t="$t" -v c="$conns" '$2 == t && $3 == c { s += $7 } END { print s + 0 }' "$RAW")"
      printf '%-18s %6s %12.0f %10.3f %10.3f %8s\n' "$t" "$conns" "$(col "$t" "$conns" 4)" "$(col "$t" "$conns" 5)" \
        "$(col "$t" "$conns" 6)" "$errs"
    done
  done
  if awk -F '\t' '$7 > 0 { found = 1 } END { exit !found }' "$RAW"; then
    echo
    echo "WARNING: some runs had non-2xx answers or socket errors (errors column): those numbers are not comparable."
  fi
  echo
  echo "wrk, the servers and the JVMs share this machine's CPUs; compare ratios, not absolute numbers, across machines."
  if has_target biogate && (( ntargets > 1 )); then
    echo
    echo "ratios (median biogate / median other; req/s above 1 = biogate faster, latency below 1 = biogate faster)"
    printf '%-28s %6s %8s %8s %8s\n' comparison conns "req/s" "p50" "p99"
    for conns in $CONNECTIONS; do
      for t in raw-vertx nginx-static nginx-proxy-cache; do
        has_target "$t" || continue
        printf '%-28s %6s %8s %8s %8s\n' "biogate/$t" "$conns" \
          "$(ratio "$(col biogate "$conns" 4)" "$(col "$t" "$conns" 4)")" \
          "$(ratio "$(col biogate "$conns" 5)" "$(col "$t" "$conns" 5)")" \
          "$(ratio "$(col biogate "$conns" 6)" "$(col "$t" "$conns" 6)")"
      done
    done
    if has_target raw-vertx && has_target nginx-static; then
      echo
      echo "goal: req/s >= 0.9 x raw-vertx and p99 <= nginx-static's"
      for conns in $CONNECTIONS; do
        r="$(ratio "$(col biogate "$conns" 4)" "$(col raw-vertx "$conns" 4)")"
        q="$(ratio "$(col biogate "$conns" 6)" "$(col nginx-static "$conns" 6)")"
        printf 'c=%-5s req/s vs raw-vertx %-6s %-4s  p99 vs nginx-static %-6s %s\n' "$conns" "$r" \
          "$(awk -v r="$r" 'BEGIN { print (r + 0 >= 0.9 ? "met" : "MISS") }')" "$q" \
          "$(awk -v q="$q" 'BEGIN { print (q + 0 <= 1.0 ? "met" : "MISS") }')"
      done
    fi
  fi
} | tee -a "$RESULT_FILE"
log "results written to $RESULT_FILE"
