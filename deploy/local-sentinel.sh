#!/usr/bin/env bash
# A local Sentinel group from the installed redis-server/redis-sentinel, for trying biogate's Sentinel mode without
# Docker: a master on BASE (6379), its replica on BASE+1, three Sentinels on SBASE..SBASE+2 (26379) watching
# "mymaster" (quorum 2). Data, logs and pid files go under DIR (./redis-sentinel-local). Stop it with
#   kill $(cat DIR/*/*.pid)     (a process killed in a drill left its pid file: "No such process" for it)
# Then: REDIS_TYPE=sentinel REDIS_ENDPOINTS=redis://127.0.0.1:26379,redis://127.0.0.1:26380,redis://127.0.0.1:26381 \
#       REDIS_MASTER_NAME=mymaster java -jar target/biogate.jar
set -euo pipefail
BASE=${BASE:-6379}
SBASE=${SBASE:-26379}
DIR=$(mkdir -p "${DIR:-redis-sentinel-local}" && cd "${DIR:-redis-sentinel-local}" && pwd)
CONF=$(cd "$(dirname "$0")/.." && pwd)/redis/redis.conf
start() { # name, then redis-server arguments
  # Each server starts from its own copy: a failover rewrites the file a server was started from (replicaof, port, dir),
  # which must not be the project's redis/redis.conf.
  mkdir -p "$DIR/$1" && cp "$CONF" "$DIR/$1/redis.conf"
  (cd "$DIR/$1" && redis-server "$DIR/$1/redis.conf" "${@:2}" --bind 127.0.0.1 --daemonize yes --logfile redis.log \
    --pidfile "$DIR/$1/redis.pid" --dir "$DIR/$1")
}
start master --port "$BASE"
start replica --port $((BASE + 1)) --replicaof 127.0.0.1 "$BASE"
for i in 0 1 2; do
  mkdir -p "$DIR/sentinel$i"
  printf 'port %s\nsentinel monitor mymaster 127.0.0.1 %s 2\nsentinel down-after-milliseconds mymaster 5000\nsentinel failover-timeout mymaster 30000\n' \
    $((SBASE + i)) "$BASE" > "$DIR/sentinel$i/sentinel.conf"
  (cd "$DIR/sentinel$i" && redis-sentinel sentinel.conf --bind 127.0.0.1 --daemonize yes --logfile sentinel.log \
    --pidfile "$DIR/sentinel$i/sentinel.pid" --dir "$DIR/sentinel$i")
done
echo "master 127.0.0.1:$BASE, replica :$((BASE + 1)), Sentinels :$SBASE-$((SBASE + 2)) (mymaster); files in $DIR"
