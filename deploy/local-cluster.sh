#!/usr/bin/env bash
# A local Redis Cluster from the installed redis-server, for trying biogate's Cluster mode without Docker: six nodes on
# BASE..BASE+5 (7000), three masters with a replica each. Their Cluster bus ports are 10000 above (Redis's default), or
# BUS_BASE..BUS_BASE+5 when BUS_BASE is set (Redis 7+: --cluster-port). Data, logs and pid files go under DIR
# (./redis-cluster-local). Stop it with
#   kill $(cat DIR/*/redis.pid)     (a node killed in a drill left its pid file: "No such process" for it)
# Then: REDIS_TYPE=cluster REDIS_ENDPOINTS=redis://127.0.0.1:7000,redis://127.0.0.1:7001,redis://127.0.0.1:7002 \
#       java -jar target/biogate.jar
set -euo pipefail
BASE=${BASE:-7000}
BUS_BASE=${BUS_BASE:-}
DIR=$(mkdir -p "${DIR:-redis-cluster-local}" && cd "${DIR:-redis-cluster-local}" && pwd)
CONF=$(cd "$(dirname "$0")/.." && pwd)/redis/redis.conf
nodes=()
for i in 0 1 2 3 4 5; do
  port=$((BASE + i))
  mkdir -p "$DIR/node$i" && cp "$CONF" "$DIR/node$i/redis.conf" # its own copy: a CONFIG REWRITE writes to it
  bus=()
  if [[ -n "$BUS_BASE" ]]; then bus=(--cluster-port "$((BUS_BASE + i))"); fi
  # A dead master fails only its own slots (the design relies on it: docs/scaling.md), not the whole Cluster.
  (cd "$DIR/node$i" && redis-server "$DIR/node$i/redis.conf" --port "$port" --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout 5000 --cluster-require-full-coverage no --bind 127.0.0.1 --daemonize yes --logfile redis.log --pidfile "$DIR/node$i/redis.pid" --dir "$DIR/node$i" \
    ${bus[@]+"${bus[@]}"})
  nodes+=("127.0.0.1:$port")
done
for n in "${nodes[@]}"; do
  until redis-cli -p "${n##*:}" ping >/dev/null 2>&1; do sleep 0.1; done
done
redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes
until redis-cli -p "$BASE" cluster info | grep -q cluster_state:ok; do sleep 0.2; done
echo "cluster on 127.0.0.1:$BASE-$((BASE + 5)); files in $DIR"
