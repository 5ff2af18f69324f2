#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests: under a folder in /tmp, on a
# loopback port, owned by the postgres user (initdb refuses to run as root).
#
#   eval "$(bash .ci/postgres-cluster.sh start)"   # prints export OXPECKER_TEST_POSTGRES_URL=… and PGCLUSTER_DIR=…
#   bash .ci/postgres-cluster.sh restart "$PGCLUSTER_DIR"   # fast shutdown (sessions ended, as in a failover), then start again
#   bash .ci/postgres-cluster.sh stop "$PGCLUSTER_DIR"
#
# Installs Debian's postgresql package if its binaries are missing.
set -euo pipefail

bin=/usr/lib/postgresql/15/bin
as_postgres() {
    if [[ "$(id -un)" == postgres ]]; then "$@"; else runuser -u postgres -- "$@"; fi
}

# Starts the cluster in $1 with its saved options. The server gets no descriptor
# of ours but its log (every other one inherited from our caller is closed): a
# caller reading our output to its end is not kept waiting by the server.
start_server() {
    local dir=$1 fd
    (
        for fd in $(ls /proc/$BASHPID/fd); do if ((fd > 2)); then eval "exec $fd>&-"; fi; done
        as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$(cat "$dir/options")" start \
            </dev/null >>"$dir/pg_ctl.log" 2>&1
    ) || { cat "$dir/pg_ctl.log" "$dir/server.log" >&2; exit 1; }
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
    echo "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=off -c synchronous_commit=off" >"$dir/options"
    start_server "$dir"
    echo "export PGCLUSTER_DIR=$dir"
    echo "export OXPECKER_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres"
    ;;
restart)
    dir=${2:?usage: postgres-cluster.sh restart DIR}
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop </dev/null >>"$dir/pg_ctl.log" 2>&1
    start_server "$dir"
    ;;
stop)
    dir=${2:?usage: postgres-cluster.sh stop DIR}
    [[ -d "$dir/data" ]] && as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: postgres-cluster.sh start | restart DIR | stop DIR" >&2
    exit 2
    ;;
esac
