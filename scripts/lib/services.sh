# shellcheck shell=bash
# Makes sure PostgreSQL and Redis answer at the configured URLs, installing and starting the
# Debian packages where nothing answers on this machine. Sourced by scripts/serve, scripts/test,
# scripts/fuzz-api and bench/run.
#
# Honours EDGECART_DATABASE_URL and EDGECART_REDIS_URL (defaults as in the README). Only local
# servers (127.0.0.1 / localhost) are installed or started; a remote URL must already answer.

: "${EDGECART_DATABASE_URL:=postgres://edgecart:edgecart@127.0.0.1:5432/edgecart}"
: "${EDGECART_REDIS_URL:=redis://127.0.0.1:6379}"
export EDGECART_DATABASE_URL EDGECART_REDIS_URL

# tcp_answers, wait_for_port, free_port.
source "$(dirname "${BASH_SOURCE[0]}")/net.sh"

log() { printf '\033[1m[edgecart]\033[0m %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Splits postgres://user:password@host:port/dbname into PG_USER PG_PASSWORD PG_HOST PG_PORT PG_DB.
parse_database_url() {
  local rest=${EDGECART_DATABASE_URL#*://}
  local creds=${rest%%@*} hostpart=${rest#*@}
  PG_USER=${creds%%:*}
  PG_PASSWORD=${creds#*:}
  if [ "$PG_PASSWORD" = "$creds" ]; then PG_PASSWORD=""; fi
  local hostport=${hostpart%%/*}
  PG_DB=${hostpart#*/}
  PG_DB=${PG_DB%%\?*}
  PG_HOST=${hostport%%:*}
  PG_PORT=${hostport##*:}
  if [ "$PG_PORT" = "$hostport" ]; then PG_PORT=5432; fi
  if [ -z "$PG_DB" ]; then PG_DB=edgecart; fi
}

# Splits redis://host:port into REDIS_HOST REDIS_PORT.
parse_redis_url() {
  local rest=${EDGECART_REDIS_URL#*://}
  rest=${rest#*@}
  rest=${rest%%/*}
  REDIS_HOST=${rest%%:*}
  REDIS_PORT=${rest##*:}
  if [ "$REDIS_PORT" = "$rest" ]; then REDIS_PORT=6379; fi
}

is_local() { case "$1" in 127.*|localhost|::1) return 0 ;; *) return 1 ;; esac; }

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  [ "$(id -u)" -eq 0 ] || die "need root to install ${missing[*]} (or start them yourself)"
  log "installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

as_postgres() { (cd / && runuser -u postgres -- "$@"); }

start_postgres() {
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  local version
  version=$(ls /usr/lib/postgresql | sort -V | tail -1)
  # Debian's cluster "main" listens on 5432; another port gets a cluster of its own.
  local cluster=main
  [ "$PG_PORT" = 5432 ] || cluster="edgecart$PG_PORT"
  if ! pg_lsclusters -h | awk '{print $1"/"$2}' | grep -qx "$version/$cluster"; then
    log "creating PostgreSQL cluster $version/$cluster on port $PG_PORT"
    pg_createcluster -p "$PG_PORT" "$version" "$cluster" >/dev/null
  fi
  # Enough connections for parallel tests and the benchmarks; applied before (re)start.
  local conf="/etc/postgresql/$version/$cluster/conf.d/edgecart.conf"
  if [ ! -f "$conf" ]; then
    printf 'max_connections = 400\nlisten_addresses = %s\n' "'localhost'" >"$conf"
  fi
  log "starting PostgreSQL $version/$cluster"
  pg_ctlcluster "$version" "$cluster" start 2>/dev/null || pg_ctlcluster "$version" "$cluster" restart
  wait_for_port "$PG_HOST" "$PG_PORT" 100 || die "PostgreSQL did not start on port $PG_PORT"
}

# Creates the role (with CREATEDB, so the server and the tests can create databases) and the
# database, through the local socket as the postgres superuser. Safe to run again.
ensure_role_and_database() {
  command -v runuser >/dev/null && id postgres >/dev/null 2>&1 || return 0
  as_postgres psql -p "$PG_PORT" -qtAX -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL || die "could not create role $PG_USER"
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE "$PG_USER" LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
  ELSE
    ALTER ROLE "$PG_USER" LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
  END IF;
END \$\$;
SQL
  if ! as_postgres psql -p "$PG_PORT" -qtAX -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1; then
    as_postgres createdb -p "$PG_PORT" -O "$PG_USER" "$PG_DB"
  fi
}

# drop_database NAME: drops that database if it exists, once nothing uses it. As the postgres
# superuser through the local socket when this is root on the server's machine, else (or when
# that fails) with EDGECART_DATABASE_URL's credentials against the `postgres` database. Needs
# parse_database_url first. Never fails: a database left behind must not fail a run.
drop_database() {
  local sql="DROP DATABASE IF EXISTS \"$1\""
  if [ "$(id -u)" -eq 0 ] && is_local "$PG_HOST" && command -v runuser >/dev/null && id postgres >/dev/null 2>&1; then
    as_postgres psql -p "$PG_PORT" -qtAX -d postgres -c "$sql" >/dev/null 2>&1 && return 0
  fi
  PGPASSWORD="$PG_PASSWORD" psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -qtAX -c "$sql" \
    >/dev/null 2>&1 || true
}

ensure_postgres() {
  parse_database_url
  if tcp_answers "$PG_HOST" "$PG_PORT"; then
    log "PostgreSQL answers at $PG_HOST:$PG_PORT"
  elif is_local "$PG_HOST"; then
    start_postgres
  else
    die "nothing answers at $PG_HOST:$PG_PORT and it is not local"
  fi
  if is_local "$PG_HOST" && [ "$(id -u)" -eq 0 ]; then ensure_role_and_database; fi
}

ensure_redis() {
  parse_redis_url
  if tcp_answers "$REDIS_HOST" "$REDIS_PORT"; then
    log "Redis answers at $REDIS_HOST:$REDIS_PORT"
    return 0
  fi
  is_local "$REDIS_HOST" || die "nothing answers at $REDIS_HOST:$REDIS_PORT and it is not local"
  command -v redis-server >/dev/null || apt_install redis-server
  log "starting Redis on port $REDIS_PORT"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --logfile "/tmp/edgecart-redis-$REDIS_PORT.log" >/dev/null
  wait_for_port "$REDIS_HOST" "$REDIS_PORT" 50 || die "Redis did not start on port $REDIS_PORT"
}

ensure_services() {
  ensure_postgres
  ensure_redis
}
