# shellcheck shell=bash
# Shared by the bench scripts (sourced, not run, right after a script finds its
# own folder): the knobs every script has, tool installation, starting biogate,
# reading wrk's output, and stopping exactly what was started.
#
# A script sets its own knobs after sourcing this file (ports, durations, ...), may set
# BIOGATE_MANAGEMENT_PORT (default: the HTTP port + 5; /metrics and /admin live there)
# and may export extra environment for the gateway (e.g. LINKTREE_WEBHOOK_SECRET).

# ---- knobs every script shares (the caller's environment wins) ----------------
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${ROOT_DIR:=$(cd "$BENCH_DIR/.." && pwd)}"
: "${BIOGATE_JAR:=$ROOT_DIR/target/biogate.jar}"
: "${BIOGATE_CMD:=}"              # overrides "$JAVA_BIN $JAVA_OPTS -jar $BIOGATE_JAR"
: "${JAVA_BIN:=java}"
: "${JAVA_OPTS:=}"
: "${PROFILE:=demo}"              # the profile read (or only waited for) at start-up
: "${STARTUP_TIMEOUT:=90}"        # seconds to wait for biogate
: "${RESULTS_DIR:=$BENCH_DIR/results}"
: "${KEEP_TMP:=0}"                # 1: keep the work files
: "${WRK_BIN:=}"                  # a wrk to use instead of the one on PATH (installed when missing)

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root or sudo to run: $*"
  fi
}

# apt_install PKG...: installs the Debian/Ubuntu packages (root or sudo needed).
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "missing $* and no apt-get: install them by hand"
  log "installing $* with apt-get (needs root or sudo)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# need_tools TOOL...: installs the missing ones (package = command name) with
# apt-get. `wrk` counts as present when WRK_BIN is set; either way WRK_BIN then
# names the wrk to run.
need_tools() {
  local missing=() t
  for t in "$@"; do
    if [[ "$t" == wrk && -n "$WRK_BIN" ]]; then continue; fi
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  if (( ${#missing[@]} > 0 )); then
    apt_install "${missing[@]}"
  fi
  if [[ " $* " == *" wrk "* ]]; then
    WRK_BIN="${WRK_BIN:-$(command -v wrk)}"
    [[ -x "$WRK_BIN" ]] || die "wrk not found"
  fi
}

# random_secret: a throwaway secret for one run; pass it through the
# environment only, never on a command line or in a log.
random_secret() {
  printf 'bench-%s' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
}

# DURATION (wrk syntax: 10, 10s, 2m, 1h) in seconds.
duration_seconds() {
  local d="$1"
  [[ "$d" =~ ^[1-9][0-9]*[smh]?$ ]] || die "a duration must look like 10s, 2m or 1h, got '$d'"
  case "$d" in
    *h) echo $(( ${d%h} * 3600 )) ;;
    *m) echo $(( ${d%m} * 60 )) ;;
    *s) echo $(( ${d%s} )) ;;
    *) echo $(( d )) ;;
  esac
}

# wrk latency (512.00us, 1.23ms, 2.01s, 1.00m) -> milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
    if (u == "us") n = n / 1000; else if (u == "s") n = n * 1000; else if (u == "m") n = n * 60000;
    printf "%.3f", n }'
}

# cpu_ticks PID: the process's user + system CPU so far, in clock ticks (getconf CLK_TCK per second).
cpu_ticks() {
  awk '{print $14 + $15}' "/proc/$1/stat"
}

# wrk_stat FILE FIGURE: one figure from `wrk --latency` output, empty when
# absent. FIGURE: rps, p50, p99 (with wrk's unit, see to_ms), socket_errors
# (all kinds summed), non2xx.
wrk_stat() {
  case "$2" in
    rps) awk '/^Requests\/sec:/ {print $2}' "$1" ;;
    p50) awk '$1 == "50%" {print $2}' "$1" ;;
    p99) awk '$1 == "99%" {print $2}' "$1" ;;
    socket_errors) awk '/Socket errors:/ {s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) s += $i; print s}' "$1" ;;
    non2xx) awk '/Non-2xx or 3xx responses:/ {print $NF}' "$1" ;;
    *) die "wrk_stat: unknown figure '$2'" ;;
  esac
}

# wrk_replay LUA URL FILES OUT: wrk with this run's WRK_THREADS, CONNECTIONS,
# DURATION (DURATION_S) and WRK_TIMEOUT, replaying the pre-signed requests in
# FILES.<thread>.txt through bench/LUA; output to OUT. Stops the script if wrk fails.
wrk_replay() {
  local lua="$1" url="$2" files="$3" out="$4"
  if ! run_bounded "$((DURATION_S + 60))" "$out" "$WRK_BIN" -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" \
      --timeout "$WRK_TIMEOUT" --latency -s "$BENCH_DIR/$lua" "$url" -- "$files"; then
    cat "$out" >&2
    die "wrk failed"
  fi
}

# wrk_header LUA URL: the host and the wrk command of a replay, for a result file.
wrk_header() {
  echo "host: $(uname -srm), $(nproc) CPUs; $("$WRK_BIN" -v 2>&1 | head -n 1 | cut -c1-60)"
  echo "wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency -s bench/$1 $2"
}

# lua_stat FILE NAME: the value of a "NAME: value" line a replay script printed.
lua_stat() {
  awk -F': ' -v k="$2" '$1 == k {print $2}' "$1"
}

port_free() {  # true when nothing listens on 127.0.0.1:$1
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

http_code() {  # http_code URL [curl args]: prints the status (000 = no answer)
  local url="$1"; shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$url" || true
}

# ---- process bookkeeping -------------------------------------------------------
TMP_DIR=""
BIOGATE_PID=""
NGINX_PID=""
WRK_PID=""
EXTRA_PIDS=()   # other processes a script started (stopped with TERM, then KILL, on exit)
CLUSTER_PIDS=() # redis-servers start_cluster started (stopped after the gateway, on exit)
declare -A MASTER_PID=()  # port -> pid of each of those redis-servers

stop_pid() {  # stop_pid PID NAME SIGNAL: signal, wait up to 15 s, then KILL
  local pid="$1" name="$2" sig="$3" i
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) did not stop, killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? children c
  trap - EXIT INT TERM
  if [[ -n "$WRK_PID" ]]; then
    stop_pid "$WRK_PID" wrk TERM
  fi
  if [[ -n "$NGINX_PID" ]]; then
    stop_pid "$NGINX_PID" nginx QUIT
  fi
  local e
  for e in "${EXTRA_PIDS[@]}"; do
    # A JVM started here may have children of its own (a private redis-server).
    children="$(ps -o pid= --ppid "$e" 2>/dev/null | tr -s ' \n' ' ' || true)"
    stop_pid "$e" "process" TERM
    for c in $children; do
      stop_pid "$c" "child process" TERM
    done
  done
  if [[ -n "$BIOGATE_PID" ]]; then
    # The gateway may have started children (its private redis-server):
    # note them first so that none outlives the run.
    children="$(ps -o pid= --ppid "$BIOGATE_PID" 2>/dev/null | tr -s ' \n' ' ' || true)"
    stop_pid "$BIOGATE_PID" biogate TERM
    for c in $children; do
      stop_pid "$c" "biogate child" TERM
    done
  fi
  # Redis last: the gateway's consumers and heartbeats use it until they have stopped.
  stop_cluster
  if [[ -n "$TMP_DIR" && -d "$TMP_DIR" ]]; then
    if [[ "$KEEP_TMP" == 1 || $rc -ne 0 ]]; then
      log "work files kept in $TMP_DIR"
    else
      rm -rf "$TMP_DIR"
    fi
  fi
  exit "$rc"
}

install_traps() {
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# run_bounded SECONDS OUTFILE CMD...: runs CMD under `timeout`, output to
# OUTFILE, in the background so that a signal to this script is handled at
# once (cleanup stops it); returns CMD's status.
run_bounded() {
  local limit="$1" outfile="$2" rc=0
  shift 2
  timeout "$limit" "$@" >"$outfile" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID" || rc=$?
  WRK_PID=""
  return "$rc"
}

make_tmp_dir() {
  TMP_DIR="$(mktemp -d "${TMPDIR:-/tmp}/biogate-bench.XXXXXX")"
}

# metric NAME [LABEL-FILTER]: the sum of a Prometheus metric's samples (those whose labels contain the filter) on
# the gateway's management listener; 0 when none.
metric() {
  curl -s --max-time 10 "$MANAGEMENT_BASE/metrics" |
    awk -v n="$1" -v f="${2:-}" '{ split($1, a, "{") } a[1] == n && index($1, f) { s += $NF } END { printf "%.0f", s }'
}

# start_sandbox JSON: the sandbox upstream in a JVM of its own (so the gateway's figures are the gateway's alone),
# configured by the JSON given (its "sandbox" section names host and port SANDBOX_PORT), JVM flags from
# SANDBOX_JAVA_OPTS; waits for its /health and sets SANDBOX to its base URL. Stopped on exit.
start_sandbox() {
  printf '%s\n' "$1" >"$TMP_DIR/sandbox.json"
  local -a sopts=()
  if [[ -n "${SANDBOX_JAVA_OPTS:-}" ]]; then read -r -a sopts <<<"$SANDBOX_JAVA_OPTS"; fi
  # BIOGATE_SANDBOX_PORT from the environment (meant for the gateway's own) would override the port the JSON names.
  BIOGATE_SANDBOX_PORT="$SANDBOX_PORT" BIOGATE_CONFIG="$TMP_DIR/sandbox.json" "$JAVA_BIN" "${sopts[@]}" -jar "$BIOGATE_JAR" sandbox >"$TMP_DIR/sandbox.log" 2>&1 &
  EXTRA_PIDS+=("$!")
  local deadline=$((SECONDS + STARTUP_TIMEOUT))
  until [[ "$(http_code "http://127.0.0.1:$SANDBOX_PORT/health")" == 200 ]]; do
    (( SECONDS < deadline )) || { tail -n 20 "$TMP_DIR/sandbox.log" >&2; die "sandbox not ready"; }
    sleep 0.5
  done
  SANDBOX="http://127.0.0.1:$SANDBOX_PORT"
}

# start_biogate: builds the jar if needed, starts the gateway on loopback with
# its sandbox, waits for /health/live (or, if that is 404, for the profile URL)
# and checks GET /v1/profiles/$PROFILE answers 200. Logs go to $TMP_DIR/biogate.log.
start_biogate() {
  local p
  BIOGATE_MANAGEMENT_PORT="${BIOGATE_MANAGEMENT_PORT:-$((BIOGATE_HTTP_PORT + 5))}"
  for p in "$BIOGATE_HTTP_PORT" "$BIOGATE_SANDBOX_PORT" "$BIOGATE_MANAGEMENT_PORT"; do
    port_free "$p" || die "port $p on 127.0.0.1 is in use (set BIOGATE_HTTP_PORT / BIOGATE_SANDBOX_PORT / BIOGATE_MANAGEMENT_PORT)"
  done
  local -a cmd
  if [[ -n "$BIOGATE_CMD" ]]; then
    read -r -a cmd <<<"$BIOGATE_CMD"
  else
    if [[ ! -f "$BIOGATE_JAR" ]]; then
      [[ "$BIOGATE_JAR" == "$ROOT_DIR/target/biogate.jar" ]] || die "BIOGATE_JAR=$BIOGATE_JAR does not exist"
      command -v mvn >/dev/null 2>&1 || die "$BIOGATE_JAR is missing and mvn is not installed to build it"
      log "building $BIOGATE_JAR (mvn -B -q package -DskipTests)"
      (cd "$ROOT_DIR" && mvn -B -q package -DskipTests)
      [[ -f "$BIOGATE_JAR" ]] || die "the build did not produce $BIOGATE_JAR"
    fi
    command -v "${JAVA_BIN:-java}" >/dev/null 2>&1 || die "${JAVA_BIN:-java} is not installed"
    local -a opts=()
    if [[ -n "$JAVA_OPTS" ]]; then read -r -a opts <<<"$JAVA_OPTS"; fi
    cmd=("${JAVA_BIN:-java}" "${opts[@]}" -jar "$BIOGATE_JAR")
  fi
  log "starting biogate: ${cmd[*]} (http 127.0.0.1:$BIOGATE_HTTP_PORT, sandbox 127.0.0.1:$BIOGATE_SANDBOX_PORT)"
  # Load comes from loopback: exempt it from the per-client edge limit (not exempt by default).
  BIOGATE_CONFIG="${BIOGATE_CONFIG:-$ROOT_DIR/bench/loopback.json}" \
  BIOGATE_HTTP_HOST=127.0.0.1 BIOGATE_HTTP_PORT="$BIOGATE_HTTP_PORT" BIOGATE_SANDBOX_PORT="$BIOGATE_SANDBOX_PORT" \
  BIOGATE_MANAGEMENT_HOST=127.0.0.1 BIOGATE_MANAGEMENT_PORT="$BIOGATE_MANAGEMENT_PORT" \
    "${cmd[@]}" >"$TMP_DIR/biogate.log" 2>&1 &
  BIOGATE_PID=$!

  local base="http://127.0.0.1:$BIOGATE_HTTP_PORT" deadline=$((SECONDS + STARTUP_TIMEOUT)) code probe="/health/live"
  while :; do
    if ! kill -0 "$BIOGATE_PID" 2>/dev/null; then
      tail -n 40 "$TMP_DIR/biogate.log" >&2
      die "biogate exited during startup (log above)"
    fi
    code="$(http_code "$base$probe")"
    if [[ "$code" == 200 ]]; then
      break
    elif [[ "$code" == 404 && "$probe" == /health/live ]]; then
      log "/health/live answers 404; waiting for /v1/profiles/$PROFILE instead"
      probe="/v1/profiles/$PROFILE"
      continue
    fi
    if (( SECONDS >= deadline )); then
      tail -n 40 "$TMP_DIR/biogate.log" >&2
      die "biogate not ready after ${STARTUP_TIMEOUT}s ($base$probe -> $code)"
    fi
    sleep 0.5
  done
  code="$(http_code "$base/v1/profiles/$PROFILE")"
  [[ "$code" == 200 ]] || die "GET $base/v1/profiles/$PROFILE answers $code, not 200"
  MANAGEMENT_BASE="http://127.0.0.1:$BIOGATE_MANAGEMENT_PORT"
  code="$(http_code "$MANAGEMENT_BASE/metrics")"
  [[ "$code" == 200 ]] || die "GET $MANAGEMENT_BASE/metrics answers $code, not 200"
  log "biogate is up (pid $BIOGATE_PID, metrics on $MANAGEMENT_BASE/metrics)"
}

# ---- Redis Cluster ---------------------------------------------------------------

# need_redis: redis-server and redis-cli (apt packages redis-server and redis-tools), installed when missing.
need_redis() {
  local missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
  if (( ${#missing[@]} > 0 )); then
    apt_install "${missing[@]}"
  fi
}

# start_cluster BASE N: N masters from the redis-server on the PATH on BASE..BASE+N-1 (127.0.0.1, no replicas, no
# persistence, their files under $TMP_DIR/redis-<port>), slots split evenly; returns once every node reports the
# cluster ok. Each master's pid goes to MASTER_PID[port] and CLUSTER_PIDS (stopped on exit). A script may set
# CLUSTER_NODE_HOOK to a function called as `HOOK PID PORT` once each master answers (e.g. to cap its CPU).
start_cluster() {
  local base="$1" n="$2" i p dir per from to ok
  for ((i = 0; i < n; i++)); do
    p=$((base + i))
    port_free "$p" || die "port $p on 127.0.0.1 is in use (set CLUSTER_PORT)"
    dir="$TMP_DIR/redis-$p"
    mkdir -p "$dir"
    redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "$dir/nodes.conf" \
      --cluster-require-full-coverage no --dir "$dir" --save '' --appendonly no --protected-mode no \
      --logfile "$dir/log" --daemonize no >/dev/null 2>&1 &
    CLUSTER_PIDS+=("$!")
    MASTER_PID[$p]=$!
  done
  for ((i = 0; i < n; i++)); do
    p=$((base + i))
    for _ in $(seq 100); do redis-cli -p "$p" PING >/dev/null 2>&1 && break; sleep 0.1; done
    if [[ -n "${CLUSTER_NODE_HOOK:-}" ]]; then "$CLUSTER_NODE_HOOK" "${MASTER_PID[$p]}" "$p"; fi
  done
  for ((i = 1; i < n; i++)); do redis-cli -p "$base" CLUSTER MEET 127.0.0.1 $((base + i)) >/dev/null; done
  per=$((16384 / n))
  for ((i = 0; i < n; i++)); do
    from=$((i * per)); to=$(( i == n - 1 ? 16383 : from + per - 1 ))
    redis-cli -p $((base + i)) CLUSTER ADDSLOTSRANGE "$from" "$to" >/dev/null
  done
  for _ in $(seq 100); do
    ok=1
    for ((i = 0; i < n; i++)); do
      redis-cli -p $((base + i)) CLUSTER INFO | grep -q 'cluster_state:ok' || ok=0
      [[ "$(redis-cli -p $((base + i)) CLUSTER NODES | grep -c master)" == "$n" ]] || ok=0
    done
    (( ok == 1 )) && return 0
    sleep 0.2
  done
  die "the $n-master cluster on port $base did not form"
}

# cluster_endpoints BASE N: the REDIS_ENDPOINTS value naming those masters.
cluster_endpoints() {
  local i out=""
  for ((i = 0; i < $2; i++)); do out+="${out:+,}redis://127.0.0.1:$(($1 + i))"; done
  echo "$out"
}

# stop_cluster: stops the redis-servers start_cluster started (TERM to all, then KILL after 5 s).
stop_cluster() {
  local pid
  for pid in "${CLUSTER_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${CLUSTER_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  CLUSTER_PIDS=()
}

# ---- signed Linktree deliveries --------------------------------------------------

# sign_requests PREFIX THREADS TOTAL RUN_ID [FIRST]: writes PREFIX.<thread>.txt, one signed Linktree delivery a line
# (id TAB timestamp TAB signature TAB body) for bench/webhook.lua, signed with $SIGNING_SECRET (exported, never on a
# command line); each delivery has its own id and link (lnk_<thread>_<n>, n from FIRST, default 0). The gateway also
# dedupes on the body: two sets signed in the same second need FIRSTs far apart so that their bodies differ.
sign_requests() {
  python3 - "$@" <<'PY'
import hashlib, hmac, json, os, sys, time

prefix, threads, total, run_id = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
first = int(sys.argv[5]) if len(sys.argv) > 5 else 0
key = os.environ["SIGNING_SECRET"].encode("utf-8")
ts = str(int(time.time()))
iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
per_thread = total // threads
for t in range(threads):
    with open("%s.%d.txt" % (prefix, t), "w", encoding="utf-8") as out:
        for n in range(per_thread):
            link = "lnk_%d_%d" % (t, first + n)
            body = json.dumps({
                "type": "link.updated",
                "data": {"link_id": link, "title": "Bench link " + link,
                         "url": "https://example.com/bench/" + link, "position": n % 20,
                         "thumbnail_url": "https://cdn.example.com/bench/" + link + ".png"},
                "timestamp": iso,
            }, separators=(",", ":"))
            sig = hmac.new(key, (ts + "." + body).encode("utf-8"), hashlib.sha256).hexdigest()
            out.write("wh-%s-%d-%d\t%s\t%s\t%s\n" % (run_id, t, n, ts, sig, body))
PY
}

# probe_endpoint URL RUN_ID: one signed delivery with curl; stops the script unless it is accepted; then the same
# delivery again, expected to be answered {"duplicate":true} (a warning if not).
probe_endpoint() {
  local url="$1" run_id="$2" file="$TMP_DIR/probe" line id ts sig body code
  sign_requests "$file" 1 1 "$run_id-probe"
  line="$(head -n 1 "$file.0.txt")"
  IFS=$'\t' read -r id ts sig body <<<"$line"
  code="$(curl -s -o "$TMP_DIR/probe.body" -w '%{http_code}' --max-time 10 -X POST \
    -H 'Content-Type: application/json' -H "x-linktree-delivery-id: $id" \
    -H "x-linktree-timestamp: $ts" -H "x-linktree-signature: $sig" \
    --data-binary "$body" "$url" || true)"
  case "$code" in
    200)
      grep -q '"received"[[:space:]]*:[[:space:]]*true' "$TMP_DIR/probe.body" \
        || die "probe delivery answered 200 but not {\"received\":true}: $(head -c 300 "$TMP_DIR/probe.body")" ;;
    404)
      die "POST $url answers 404: this biogate build has no Linktree webhook endpoint yet (it is being built). Nothing to measure." ;;
    503)
      die "POST $url answers 503: the gateway did not pick up LINKTREE_WEBHOOK_SECRET ($(head -c 300 "$TMP_DIR/probe.body"))" ;;
    401|403)
      die "POST $url rejected the signed probe ($code): $(head -c 300 "$TMP_DIR/probe.body")" ;;
    000)
      die "POST $url: no answer" ;;
    *)
      die "POST $url answered $code: $(head -c 300 "$TMP_DIR/probe.body")" ;;
  esac
  # The same delivery again must be recognised as a duplicate.
  sign_requests "$file" 1 1 "$run_id-probe"
  IFS=$'\t' read -r id ts sig body <"$file.0.txt"
  code="$(curl -s -o "$TMP_DIR/probe.body" -w '%{http_code}' --max-time 10 -X POST \
    -H 'Content-Type: application/json' -H "x-linktree-delivery-id: $id" \
    -H "x-linktree-timestamp: $ts" -H "x-linktree-signature: $sig" \
    --data-binary "$body" "$url" || true)"
  if [[ "$code" != 200 ]] || ! grep -q '"duplicate"[[:space:]]*:[[:space:]]*true' "$TMP_DIR/probe.body"; then
    log "warning: a repeated probe delivery answered $code $(head -c 200 "$TMP_DIR/probe.body") (expected {\"duplicate\":true})"
  fi
}
