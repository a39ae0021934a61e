#!/bin/sh
# Run once by the postgres image on an empty data volume (docker-entrypoint-initdb.d), as the
# owner (POSTGRES_USER). Creates the role the API connects as: it owns nothing, and gets its
# privileges from `bwk migrate` (api/grants.py). The password comes from BWK_APP_DB_PASSWORD.
set -eu

if [ -z "${BWK_APP_DB_PASSWORD:-}" ]; then
    echo "10-application-role: BWK_APP_DB_PASSWORD is not set" >&2
    exit 1
fi

# psql's :'var' quotes the password as a literal; nothing is pasted into the SQL text
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v app_role="${BWK_APP_DB_USER:-bwk_app}" -v app_password="$BWK_APP_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'app_role', :'app_password') \gexec
SQL
