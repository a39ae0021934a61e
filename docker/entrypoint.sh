#!/bin/sh
# The image's entrypoint: wait for the database, migrate, then serve; or run the given command.
set -eu

# Arguments mean a one-off command (`docker compose run --rm api bwk users add ...`): run it as is.
if [ "$#" -gt 0 ]; then
    exec "$@"
fi

wait_seconds="${BWK_DB_WAIT_SECONDS:-60}"
case "$wait_seconds" in
    '' | *[!0-9]*)
        echo "entrypoint: BWK_DB_WAIT_SECONDS must be a whole number of seconds" >&2
        exit 2
        ;;
esac

# One connection attempt through the app's own settings and URL handling (SQLite or PostgreSQL).
# Exit 2 means the configuration is wrong, which waiting will not fix; 1 means not up (yet).
probe() {
    python -c '
import sys
from sqlalchemy import create_engine, text
from api.db import ensure_sqlite_dir, sync_url
from api.settings import get_settings
try:
    url = sync_url(get_settings().database_url)
except ValueError as exc:  # pydantic ValidationError too; print only the messages, never inputs
    for err in getattr(exc, "errors", lambda: [{"msg": str(exc)}])():
        print("configuration error:", err["msg"], file=sys.stderr)
    sys.exit(2)
ensure_sqlite_dir(url)
args = {} if url.get_backend_name() == "sqlite" else {"connect_timeout": 3}
try:
    with create_engine(url, connect_args=args).connect() as conn:
        conn.execute(text("SELECT 1"))
except Exception as exc:  # the first line names the cause, never the password
    print(str(exc).splitlines()[0], file=sys.stderr)
    sys.exit(1)
'
}

deadline=$(($(date +%s) + wait_seconds))
until error=$(probe 2>&1); do
    status=$?
    if [ "$status" -eq 2 ]; then
        printf 'entrypoint: %s\n' "$error" >&2
        exit 2
    fi
    # whole seconds: past the deadline's second, at least wait_seconds have gone by (with -ge
    # a start late in its second gave up after little more than wait_seconds - 1)
    if [ "$(date +%s)" -gt "$deadline" ]; then
        last=$(printf '%s\n' "$error" | tail -n 1)
        echo "entrypoint: the database did not accept connections within ${wait_seconds} s" \
            "(BWK_DB_WAIT_SECONDS); last error: ${last}" >&2
        exit 1
    fi
    sleep 1
done

# As the schema's owner when BWK_MIGRATE_DATABASE_URL is set; it also grants the application's
# role (BWK_DATABASE_URL's user) what the API needs. The API itself never holds the owner's URL.
bwk migrate
unset BWK_MIGRATE_DATABASE_URL
# exec: uvicorn takes over this process (PID 1 in the container), so it gets SIGTERM itself.
# Migrated once, above, before any worker starts. Workers: BWK_WORKERS, else one per CPU the
# container may use (its --cpus quota and cpuset count, not the host's CPUs).
exec bwk serve --host 0.0.0.0 --port "${PORT:-8000}"
