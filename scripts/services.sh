#!/usr/bin/env bash
# A throwaway PostgreSQL and Redis on loopback for the tests (Debian's packages).
#   scripts/services.sh start DIR   → starts both, data in DIR; prints the variables to export
#   scripts/services.sh stop DIR    → stops both
# Ports: PG_PORT (default 55433), REDIS_PORT (default 56380).
set -euo pipefail
action="${1:?start or stop}"
dir="$(realpath -m "${2:?a folder for the data}")"
pg_port="${PG_PORT:-55433}"
redis_port="${REDIS_PORT:-56380}"
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -n "$pg_bin" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }

as_postgres() {
  # PostgreSQL refuses to run as root: as root, run its tools as the postgres user.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/pg/PG_VERSION" ]; then
      as_postgres "$pg_bin/initdb" -D "$dir/pg" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
        --no-sync >/dev/null
    fi
    # fsync off: a test server, rebuilt from nothing on every run.
    as_postgres "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w start -o \
      "-h 127.0.0.1 -p $pg_port -k $dir -c fsync=off -c synchronous_commit=off -c max_connections=300" \
      >/dev/null
    redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
      --daemonize yes --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
    for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    echo "export LASTMETER_TEST_POSTGRES=postgresql+asyncpg://postgres@127.0.0.1:$pg_port/postgres"
    echo "export LASTMETER_TEST_REDIS=redis://127.0.0.1:$redis_port/0"
    ;;
  stop)
    as_postgres "$pg_bin/pg_ctl" -D "$dir/pg" -m fast -w stop >/dev/null 2>&1 || true
    redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
