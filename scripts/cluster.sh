#!/usr/bin/env bash
# A one-node Kubernetes cluster on loopback, built from the pinned peers (test/peers/):
# etcd, kube-apiserver, containerd 2 + runc and a kubelet, with a local Distribution registry
# the node pulls from (it serves the pause image too). Root is needed (runc, CNI).
#   scripts/cluster.sh up [--always-pull-images]   start it, or reuse the running one
#   scripts/cluster.sh env                         eval "$(scripts/cluster.sh env)": KUBECONFIG, PATH, KIMG_TEST_REGISTRY
#   scripts/cluster.sh down                        stop it; nothing is left behind
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE="${KIMG_CLUSTER_DIR:-/tmp/kimg-cluster}"
export KIMG_CLUSTER_DIR="$STATE"
running() { [[ -f "$STATE/pid" ]] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null; }

case "${1:-}" in
  up)
    if running && [[ -f "$STATE/ready" ]]; then echo "cluster: running (pid $(cat "$STATE/pid"))"; exit 0; fi
    bash "$ROOT/scripts/build-peers.sh" etcd kubernetes containerd crictl crane
    mkdir -p "$STATE"
    rm -f "$STATE/ready"
    # Its own session, no inherited descriptors: it outlives this shell and its terminal.
    # ($! must be node's own pid, not a subshell's: the background job is setsid alone.)
    (cd "$ROOT" || exit 1
      setsid node --import tsx scripts/cluster.ts serve "${@:2}" </dev/null >"$STATE/log" 2>&1 &
      echo $! >"$STATE/pid")
    for _ in $(seq 1 300); do
      [[ -f "$STATE/ready" ]] && { echo "cluster: up in $(cat "$STATE/ready") s; eval \"\$(scripts/cluster.sh env)\""; exit 0; }
      running || { echo "cluster: failed to start:" >&2; tail -n 30 "$STATE/log" >&2; exit 1; }
      sleep 1
    done
    echo "cluster: not up after 300 s" >&2; tail -n 30 "$STATE/log" >&2; exit 1 ;;
  env)
    [[ -f "$STATE/env" ]] || { echo "cluster: not running (scripts/cluster.sh up)" >&2; exit 1; }
    cat "$STATE/env" ;;
  down)
    if running; then
      pid="$(cat "$STATE/pid")"
      # TERM until it has stopped the node, the control plane and the registry (it removes
      # pods through the CRI first), then KILL as a last resort.
      for i in $(seq 1 90); do
        kill -0 "$pid" 2>/dev/null || break
        ((i % 10 == 1)) && kill -TERM "$pid" 2>/dev/null
        sleep 1
      done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$STATE"; echo "cluster: down" ;;
  *) echo "usage: scripts/cluster.sh up [--always-pull-images] | down | env" >&2; exit 2 ;;
esac
