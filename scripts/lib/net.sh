# shellcheck shell=bash
# TCP helpers for the scripts: whether a port answers, waiting for one to, and picking a free
# one. Sourced by scripts/lib/services.sh, so every script that sources that has them too.

# True when something accepts TCP connections at host:port.
tcp_answers() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# wait_for_port HOST PORT [TRIES]: true as soon as HOST:PORT answers, checking every 0.1 s up to
# TRIES times (default 100, about 10 s); false when it never did.
wait_for_port() {
  local tries=${3:-100}
  for _ in $(seq 1 "$tries"); do
    tcp_answers "$1" "$2" && return 0
    sleep 0.1
  done
  return 1
}

# Prints a TCP port on 127.0.0.1 that nothing listens on (the kernel's pick), for a server
# started right after.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
