# A streaming replica of the local PostgreSQL cluster, for bench/run's replica_reads scenario
# (sourced by bench/run, whose sql it uses; needs root and the postgres OS user, as scripts/lib/services.sh's local cluster):
# pg_basebackup over the local socket (Debian's pg_hba.conf lets `postgres` replicate with
# peer authentication), then a hot standby on its own port following the cluster.

replica_bin() { echo "/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -V | tail -1)/bin"; }

start_replica() { # data-dir port
  local dir=$1 port=$2
  install -d -o postgres -m 0700 "$dir"
  as_postgres "$(replica_bin)/pg_basebackup" -D "$dir" -R -X stream
  # Debian keeps the cluster's configuration outside its data folder: give the copy its own.
  # A standby refuses to start with fewer of these than its primary has.
  local settings="hot_standby = on" name
  for name in max_connections max_worker_processes max_wal_senders max_prepared_transactions max_locks_per_transaction; do
    settings+=$'\n'"$name = $(sql "SHOW $name")"
  done
  printf '%s\n' "$settings" | as_postgres sh -c "cat > '$dir/postgresql.conf'"
  as_postgres sh -c "printf 'local all all peer\nhost all all 127.0.0.1/32 scram-sha-256\n' > '$dir/pg_hba.conf'"
  as_postgres "$(replica_bin)/pg_ctl" -D "$dir" -w -l "$dir/server.log" \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
}

stop_replica() { # data-dir
  as_postgres "$(replica_bin)/pg_ctl" -D "$1" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$1"
}
