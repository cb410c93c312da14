#!/bin/sh
# Starts a local 3-master Redis Cluster (ports 7000-7002, data in ./data/redis-cluster) for trying
# cluster mode by hand:  sh ops/redis-cluster.sh start   then
#   REDIS_CLUSTER_NODES=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 npm start
# The test suite starts its own cluster on free ports (test/support/redis-servers.ts).
set -eu
DIR=${DIR:-./data/redis-cluster}
PORTS="7000 7001 7002"
case "${1:-start}" in
  start)
    mkdir -p "$DIR"
    for p in $PORTS; do
      redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "nodes-$p.conf" \
        --dir "$DIR" --appendonly yes --daemonize yes --pidfile "$DIR/redis-$p.pid" --logfile "$DIR/redis-$p.log"
    done
    sleep 1
    if ! redis-cli -p 7000 cluster info | grep -q cluster_state:ok; then
      redis-cli --cluster create 127.0.0.1:7000 127.0.0.1:7001 127.0.0.1:7002 --cluster-replicas 0 --cluster-yes
    fi
    echo "REDIS_CLUSTER_NODES=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002"
    ;;
  stop)
    for p in $PORTS; do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
    ;;
  *)
    echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
