#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests: under a folder in /tmp, on a
# loopback port, owned by the postgres user (initdb refuses to run as root).
#
#   eval "$(bash .ci/postgres-cluster.sh start)"   # prints export OXPECKER_TEST_POSTGRES_URL=… and PGCLUSTER_DIR=…
#   bash .ci/postgres-cluster.sh stop "$PGCLUSTER_DIR"
#
# Installs Debian's postgresql package if its binaries are missing.
set -euo pipefail

bin=/usr/lib/postgresql/15/bin
as_postgres() {
    if [[ "$(id -un)" == postgres ]]; then "$@"; else runuser -u postgres -- "$@"; fi
}

case "${1:-}" in
start)
    if [[ ! -x "$bin/pg_ctl" ]]; then
        echo "installing postgresql" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q >&2
        apt-get install -y -q postgresql-15 >&2
    fi
    dir=$(mktemp -d /tmp/oxpecker-pg.XXXXXX)
    chown postgres "$dir"
    port=${PGCLUSTER_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    # fsync off: a throwaway cluster, durability is not what the tests measure.
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=off -c synchronous_commit=off" start >&2 \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "export PGCLUSTER_DIR=$dir"
    echo "export OXPECKER_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    dir=${2:?usage: postgres-cluster.sh stop DIR}
    [[ -d "$dir/data" ]] && as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: postgres-cluster.sh start | stop DIR" >&2
    exit 2
    ;;
esac
