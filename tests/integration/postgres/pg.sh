#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for tests and benchmarks (issue 17).
#
#   pg.sh start DIR [--port N] [--durable]   initdb in DIR/data, start, create a role and database
#   pg.sh stop DIR                           stop it (pg_ctl -m fast) and delete DIR/data
#   pg.sh url DIR                            print the TCP URL again
#
# start prints the URLs (and writes them to DIR):
#   DIR/url           postgresql://crm_test:PASSWORD@127.0.0.1:PORT/crm_test  (TCP, scram-sha-256)
#   DIR/socket_url    postgresql://crm_test@/crm_test?host=SOCKETDIR&port=PORT (Unix socket, trust)
#   DIR/pg_service.conf  service "crm-test": the TCP connection with its password, for
#                     PGSERVICEFILE=DIR/pg_service.conf and the URL postgresql:///?service=crm-test
#                     (what the ctest fixture hands to the unit tests: tests/unit/pg/CMakeLists.txt)
# Logs go to DIR/server.log. The server listens on 127.0.0.1 only, on a free port unless --port is
# given. Without --durable it runs with fsync=off (a test cluster need not survive a power cut);
# the benchmark passes --durable so that commits cost what they cost in production.
#
# initdb refuses to run as root: as root, the server runs as the `postgres` system user (Debian's
# postgresql-15 creates it) through runuser; otherwise as the calling user. A cluster left running
# in DIR by an earlier run that died is stopped first, and its files are removed.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
ROLE=crm_test
DATABASE=crm_test
SERVICE=crm-test
# How long to wait for the server to accept connections after pg_ctl start.
READY_TIMEOUT_S=60
# unix_socket_directories must fit sun_path (108 bytes) with "/.s.PGSQL.NNNNN" appended.
SOCKET_PATH_MAX=90

die() { echo "pg.sh: $*" >&2; exit 1; }

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac

as_server() {
  if [ "$(id -u)" -eq 0 ]; then
    # cd: the caller's directory may be unreadable to postgres (pg_ctl and psql complain).
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The socket directory: DIR/run, or a short directory under /tmp when DIR is too deep for sun_path
# (remembered in DIR/socket_dir so that stop removes it).
socket_dir() {
  if [ -f "$dir/socket_dir" ]; then cat "$dir/socket_dir"; return; fi
  if [ ${#dir} -le $((SOCKET_PATH_MAX - 4)) ]; then echo "$dir/run"; else mktemp -d /tmp/crm-pg.XXXXXX; fi
}

stop_cluster() {
  if [ -f "$dir/data/PG_VERSION" ] && as_server "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_server "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null ||
      die "pg_ctl stop failed for $dir/data (see $dir/server.log)"
  fi
  if [ -f "$dir/socket_dir" ]; then
    local s
    s=$(cat "$dir/socket_dir")
    case "$s" in /tmp/crm-pg.*) rm -rf "$s" ;; esac
  fi
  rm -rf "$dir/data" "$dir/run" "$dir/socket_dir" "$dir/url" "$dir/socket_url" \
    "$dir/pg_service.conf" "$dir/password"
}

start_cluster() {
  local port="" durable=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --port) port=$2; shift 2 ;;
      --durable) durable=1; shift ;;
      *) usage ;;
    esac
  done
  [ -x "$PG_BIN/initdb" ] || die "no PostgreSQL 15 in $PG_BIN: install postgresql-15 (scripts/install-deps.sh)"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "no postgres system user (it comes with postgresql-15)"
  fi
  mkdir -p "$dir"
  stop_cluster # a cluster left by an earlier run
  local sock
  sock=$(socket_dir)
  [ "$sock" = "$dir/run" ] || echo "$sock" >"$dir/socket_dir"
  mkdir -p "$dir/data" "$sock"
  chmod 0755 "$dir"
  : >"$dir/server.log"
  # A password for the test role, different each run; only DIR (0600 files) holds it.
  local password
  password=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)
  (umask 077; printf '%s\n' "$password" >"$dir/password")
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir/data" "$sock" "$dir/server.log"
  fi
  chmod 0700 "$dir/data"

  # The superuser "postgres" logs in over the socket only (trust), so it needs no password.
  as_server "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    die "initdb failed (see $dir/initdb.log)"
  cat >"$dir/hba.conf.tmp" <<EOF
# pg.sh: the socket trusts every local user; TCP wants a password (SCRAM).
local all all trust
host  all all 127.0.0.1/32 scram-sha-256
EOF
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir/hba.conf.tmp"; fi
  mv "$dir/hba.conf.tmp" "$dir/data/pg_hba.conf"

  local fast=""
  if [ "$durable" = 0 ]; then
    fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  local tries=0
  while :; do
    local p=${port:-$(free_port)}
    # shellcheck disable=SC2086 # $fast is a list of options
    if as_server "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t "$READY_TIMEOUT_S" \
      -o "-c listen_addresses=127.0.0.1 -c port=$p -c unix_socket_directories=$sock \
          -c password_encryption=scram-sha-256 -c max_connections=100 $fast" start >/dev/null; then
      port=$p
      break
    fi
    tries=$((tries + 1))
    # Another process may have taken the free port between the check and the start.
    if [ -n "$port" ] || [ $tries -ge 3 ]; then
      tail -n 20 "$dir/server.log" >&2 || true
      die "the server did not start (see $dir/server.log)"
    fi
  done
  local waited=0
  until as_server "$PG_BIN/pg_isready" -q -h "$sock" -p "$port" -d postgres &&
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres; do
    waited=$((waited + 1))
    [ $waited -lt $((READY_TIMEOUT_S * 10)) ] || die "the server does not accept connections (see $dir/server.log)"
    sleep 0.1
  done

  as_server "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -d postgres \
    -v role="$ROLE" -v database="$DATABASE" -v password="$password" >/dev/null <<'EOF' ||
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"database" OWNER :"role";
EOF
    die "could not create the role and database (see $dir/server.log)"

  local url="postgresql://$ROLE:$password@127.0.0.1:$port/$DATABASE"
  local socket_url="postgresql://$ROLE@/$DATABASE?host=$sock&port=$port"
  (
    umask 077
    echo "$url" >"$dir/url"
    echo "$socket_url" >"$dir/socket_url"
    printf '[%s]\nhost=127.0.0.1\nport=%s\ndbname=%s\nuser=%s\npassword=%s\n' \
      "$SERVICE" "$port" "$DATABASE" "$ROLE" "$password" >"$dir/pg_service.conf"
  )
  echo "PostgreSQL $("$PG_BIN/postgres" -V | awk '{print $3}') running in $dir/data (log: $dir/server.log)"
  echo "url:        $url"
  echo "socket_url: $socket_url"
  echo "service:    PGSERVICEFILE=$dir/pg_service.conf postgresql:///?service=$SERVICE"
}

case "$cmd" in
  start) start_cluster "$@" ;;
  stop)
    [ $# -eq 0 ] || usage
    stop_cluster
    echo "PostgreSQL in $dir stopped"
    ;;
  url)
    [ -f "$dir/url" ] || die "no cluster started in $dir"
    cat "$dir/url"
    ;;
  *) usage ;;
esac
