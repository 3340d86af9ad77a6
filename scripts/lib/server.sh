# shellcheck shell=bash
# A throwaway edgecart server for the scripts that test against a live one (scripts/fuzz-api,
# scripts/test-client, scripts/test-browser): the debug binary, a free port, a fresh database
# dropped when the script exits, a Redis prefix and an admin token of its own. Needs
# services.sh sourced first.
#
#   throwaway_server NAME   build the binary (unless EDGECART_BIN names one), export the
#                           EDGECART_* settings, trap the cleanup
#   start_server LOG        serve in the background (log to LOG) and wait until it answers
#   stop_server             stop it (the database stays until the script exits)
#   fresh_state LABEL       after stop_server: drop the database (the next start makes it
#                           again) and move to a Redis prefix of its own, for a pass that
#                           must not see the one before
#
# After throwaway_server: EDGECART_BIN (the binary, an absolute path), SERVER_URL
# (http://127.0.0.1:PORT), EDGECART_ADMIN_TOKEN.

# throwaway_server NAME: NAME labels the database (edgecart_NAME_PID) and the Redis prefix.
throwaway_server() {
  local name=$1
  parse_database_url
  if [ -z "${EDGECART_BIN:-}" ]; then
    cargo build -q --bin edgecart
    EDGECART_BIN="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/edgecart"
  fi
  SERVER_PORT=$(free_port)
  SERVER_URL="http://127.0.0.1:$SERVER_PORT"
  SERVER_DATABASE="edgecart_${name}_$$"
  SERVER_PID=
  export EDGECART_DATABASE_URL="${EDGECART_DATABASE_URL%/*}/$SERVER_DATABASE"
  export EDGECART_LISTEN="127.0.0.1:$SERVER_PORT"
  export EDGECART_REDIS_PREFIX="$name:$$:"
  export EDGECART_ADMIN_TOKEN="$name-admin-token"
  # However the script ends: stop the server, then drop the database it ran on.
  trap 'stop_server; drop_database "$SERVER_DATABASE"' EXIT
}

# fresh_state LABEL: the next start_server begins on an empty database and Redis prefix.
fresh_state() {
  drop_database "$SERVER_DATABASE"
  export EDGECART_REDIS_PREFIX="${EDGECART_REDIS_PREFIX%:}:$1:"
}

# start_server LOG: `edgecart serve` with the current environment, its output in LOG; fails
# (showing the log's end) when it exits or /healthz does not answer within about a minute (the port is
# bound before the migrations and plugins, so an open port is not enough).
start_server() {
  local log=$1
  "$EDGECART_BIN" serve >"$log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    if answers_200 "$SERVER_URL/healthz"; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$log" >&2
  die "edgecart did not answer at $SERVER_URL (log: $log)"
}

# answers_200 URL: true when a GET of URL answers 200 within 2 s.
answers_200() {
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null
}

# stop_server: SIGTERM to the server started last, and wait for it to drain and exit.
stop_server() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
