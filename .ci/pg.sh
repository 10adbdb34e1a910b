#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL server on 127.0.0.1 for the tests.
#   .ci/pg.sh start   prints the URL to use as SUBSPACE_TEST_PG_URL
#   .ci/pg.sh stop
set -euo pipefail
PGDIR=${SUBSPACE_PG_DIR:-/tmp/subspace-pg}
PGPORT=${SUBSPACE_PG_PORT:-55432}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PGBIN" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
case "${1:-}" in
  start)
    if [ ! -f "$PGDIR/PG_VERSION" ]; then
      mkdir -p "$PGDIR"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDIR"
      as_pg "$PGBIN/initdb -D $PGDIR -A trust -U postgres" >/dev/null
    fi
    if ! as_pg "$PGBIN/pg_ctl -D $PGDIR status" >/dev/null 2>&1; then
      as_pg "$PGBIN/pg_ctl -D $PGDIR -l $PGDIR/log -w -o \"-c listen_addresses=127.0.0.1 -p $PGPORT -k /tmp -c max_connections=200\" start" >/dev/null
    fi
    echo "postgres://postgres@127.0.0.1:$PGPORT/postgres"
    ;;
  stop)
    as_pg "$PGBIN/pg_ctl -D $PGDIR -w -m fast stop" >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
