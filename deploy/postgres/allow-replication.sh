#!/bin/sh
# Run once by the postgres image when it creates the primary's cluster: lets the replica
# service stream from it (the image's own pg_hba.conf allows no replication connections).
set -e
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
