#!/usr/bin/env bash
# Webhook ingest of ONE gateway on a Redis Cluster of 1 master vs MASTERS masters
# (default 3), alternating over ROUNDS rounds, each round a full bench/webhooks.sh
# run (warm-up, then the measured replay) against a freshly flushed cluster.
#
# On one machine the gateway and wrk, not Redis, are the ceiling, so adding
# masters cannot show what it buys. MASTER_CPU holds each master to that share of
# one core (a cgroup CPU quota per redis-server), as masters on hosts of their own
# that the gateways outrun would be: then Redis is the bottleneck, and the run
# shows whether spreading the ingest shards over more masters raises throughput.
# MASTER_CPU=0 runs the masters uncapped.
#
#   bench/masters.sh
#   MASTER_CPU=0.2 ROUNDS=3 MASTERS=3 bench/masters.sh
#
# Needs: Linux with the cgroup cpu controller (v1 or v2) and root for MASTER_CPU > 0,
# redis-server and redis-cli (apt-get installed when missing), and what
# bench/webhooks.sh needs. Loopback only; stops and removes what it started.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$SCRIPT_DIR/common.sh"

# ---- knobs ----------------------------------------------------------------
MASTERS="${MASTERS:-3}"
ROUNDS="${ROUNDS:-2}"
MASTER_CPU="${MASTER_CPU:-0.15}"     # share of one core per master (0 = no cap)
CLUSTER_PORT="${CLUSTER_PORT:-17400}" # the 1-master cluster; the M-master one starts at +10
# 256 senders: enough in flight to keep capped masters busy (at 64, waits on throttled masters bound the rate)
export DURATION="${DURATION:-10s}" CONNECTIONS="${CONNECTIONS:-256}" WARMUP_DURATION="${WARMUP_DURATION:-10s}"

[[ "$MASTERS" =~ ^[2-9]$ ]] || die "MASTERS must be 2..9"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
[[ "$MASTER_CPU" =~ ^(0|0?\.[0-9]+|1(\.0+)?)$ ]] || die "MASTER_CPU must be a share of one core, 0 to 1"
PERIOD_US=10000   # a short period: a master that used its share waits at most ~10 ms, like a slower CPU, not 100 ms
QUOTA_US="$(awk -v c="$MASTER_CPU" -v p="$PERIOD_US" 'BEGIN {printf "%d", c * p}')"

CGROUP_KIND=""
CGROUPS=()      # directories created here (removed on exit)
CLUSTER_NODE_HOOK=cap_cpu  # start_cluster (common.sh) caps each master as it comes up

# cgroup_setup: which cgroup interface caps CPU here (v2 unified, else v1 cpu).
cgroup_setup() {
  (( QUOTA_US > 0 )) || return 0
  [[ "$(id -u)" == 0 ]] || die "MASTER_CPU > 0 needs root (a cgroup per master); run as root or with MASTER_CPU=0"
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
    echo +cpu >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
    CGROUP_KIND=v2
  elif [[ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]]; then
    CGROUP_KIND=v1
  else
    die "no cgroup cpu controller found (v2 /sys/fs/cgroup/cgroup.controllers or v1 /sys/fs/cgroup/cpu)"
  fi
}

# cap_cpu PID NAME: PID's process into a cgroup of its own holding it to MASTER_CPU of a core.
cap_cpu() {
  local pid="$1" name="$2" dir
  (( QUOTA_US > 0 )) || return 0
  if [[ "$CGROUP_KIND" == v2 ]]; then
    dir="/sys/fs/cgroup/biogate-bench-$name"
    mkdir -p "$dir"
    echo "$QUOTA_US $PERIOD_US" >"$dir/cpu.max"
  else
    dir="/sys/fs/cgroup/cpu/biogate-bench-$name"
    mkdir -p "$dir"
    echo "$PERIOD_US" >"$dir/cpu.cfs_period_us"
    echo "$QUOTA_US" >"$dir/cpu.cfs_quota_us"
  fi
  CGROUPS+=("$dir")
  echo "$pid" >"$dir/cgroup.procs"
}

# throttled NAME: how many periods the master's cgroup was throttled in so far.
throttled() {
  local dir
  if [[ "$CGROUP_KIND" == v2 ]]; then dir="/sys/fs/cgroup/biogate-bench-$1"; else dir="/sys/fs/cgroup/cpu/biogate-bench-$1"; fi
  if [[ -f "$dir/cpu.stat" ]]; then awk '$1 == "nr_throttled" {print $2}' "$dir/cpu.stat"; else echo 0; fi
}

masters_cleanup() {
  local rc=$? dir
  stop_cluster
  for dir in "${CGROUPS[@]}"; do
    rmdir "$dir" 2>/dev/null || true
  done
  [[ -z "$TMP_DIR" || ! -d "$TMP_DIR" ]] || rm -rf "$TMP_DIR"
  exit "$rc"
}

# run_round BASE N ROUND: one webhooks.sh run against the cluster; appends a row to $TABLE.
run_round() {
  local base="$1" n="$2" round="$3" i p endpoints="" out rps p99 commands="" total=0 c cpu="" thr=""
  local -a before_ticks=() before_thr=()
  endpoints="$(cluster_endpoints "$base" "$n")"
  for ((i = 0; i < n; i++)); do
    p=$((base + i))
    redis-cli -p "$p" FLUSHALL >/dev/null
    redis-cli -p "$p" CONFIG RESETSTAT >/dev/null
    before_ticks[i]="$(cpu_ticks "${MASTER_PID[$p]}")"
    before_thr[i]="$(throttled "$p")"
  done
  out="$TMP_DIR/round-$round-$n.txt"
  log "round $round: $n master(s), MASTER_CPU=$MASTER_CPU"
  REDIS_TYPE=cluster REDIS_ENDPOINTS="$endpoints" SCRIPT_BENCH=0 "$BENCH_DIR/webhooks.sh" >"$out" 2>&1 \
    || { tail -n 30 "$out" >&2; die "webhooks.sh failed (round $round, $n masters)"; }
  rps="$(awk '$1 == "requests/s" {print $2}' "$out")"
  p99="$(awk '$1 == "latency" && $2 == "p99" {print $3}' "$out")"
  for ((i = 0; i < n; i++)); do
    c="$(redis-cli -p $((base + i)) INFO stats | awk -F: '$1 == "total_commands_processed" {print $2+0}')"
    COMMANDS[i]="$c"; total=$((total + c))
  done
  for ((i = 0; i < n; i++)); do
    p=$((base + i))
    commands+="${commands:+ / }${COMMANDS[i]} ($(( COMMANDS[i] * 100 / (total > 0 ? total : 1) )) %)"
    cpu+="${cpu:+ / }$(( $(cpu_ticks "${MASTER_PID[$p]}") - before_ticks[i] ))"
    thr+="${thr:+ / }$(( $(throttled "$p") - before_thr[i] ))"
  done
  printf '| %s | %s | %s | %s ms | %s | %s | %s |\n' "$round" "$n" "$rps" "$p99" "$commands" "$cpu" "$thr" | tee -a "$TABLE"
}

# ---- main ----------------------------------------------------------------------
trap masters_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
need_redis
make_tmp_dir
mkdir -p "$RESULTS_DIR"
cgroup_setup
declare -a COMMANDS=()
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULT_FILE="$RESULTS_DIR/$STAMP-masters.txt"
TABLE="$TMP_DIR/table.md"

start_cluster "$CLUSTER_PORT" 1
start_cluster $((CLUSTER_PORT + 10)) "$MASTERS"

{
  echo "biogate webhook ingest on 1 vs $MASTERS Redis Cluster masters, $STAMP"
  echo "each master held to $MASTER_CPU of a core (0 = uncapped; cgroup $CGROUP_KIND); $(redis-server --version | sed -E 's/.*v=([^ ]+).*/Redis \1/')"
  echo "per round: DURATION=$DURATION CONNECTIONS=$CONNECTIONS WARMUP_DURATION=$WARMUP_DURATION SCRIPT_BENCH=0 bench/webhooks.sh"
  echo "commands and CPU ticks (1/100 s) per master cover the whole round (warm-up included); throttled = 10-ms periods in which the quota stopped the master"
  echo
  echo "| round | masters | accepted deliveries/s | p99 | commands per master | CPU ticks per master | throttled periods |"
  echo "|---|---|---|---|---|---|---|"
} | tee "$RESULT_FILE"
: >"$TABLE"
for ((r = 1; r <= ROUNDS; r++)); do
  run_round "$CLUSTER_PORT" 1 "$r"
  run_round $((CLUSTER_PORT + 10)) "$MASTERS" "$r"
done
cat "$TABLE" >>"$RESULT_FILE"
awk -F' [|] ' -v m="$MASTERS" '
  $2 == 1 { one += $3; n1++ } $2 == m { many += $3; nm++ }
  END { if (n1 && nm) printf "\n%d masters / 1 master, accepted deliveries/s (mean of rounds): %.2f\n", m, (many / nm) / (one / n1) }
' "$TABLE" | tee -a "$RESULT_FILE"
log "results written to $RESULT_FILE"
