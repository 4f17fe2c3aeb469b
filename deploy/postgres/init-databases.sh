#!/bin/bash
# Creates one database per CRM service, owned by $POSTGRES_USER.
#
# The postgres image runs the scripts of /docker-entrypoint-initdb.d/ once, when its data volume is empty:
# to run it again, remove the volume (docker compose -f deploy/docker-compose.yml down -v).
# The services create their own tables at start (each migrates its own database).
set -e

for database in auth customer sales_activity opportunity analytics; do
    echo "creating database ${database}"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
        -c "CREATE DATABASE \"${database}\" OWNER \"${POSTGRES_USER}\";"
done
