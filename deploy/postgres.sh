#!/usr/bin/env bash
# Provision a local PostgreSQL for salesledger with Debian's packages (no Docker).
#   deploy/postgres.sh [start]   install/create/start as needed, ensure role+db, print the URL
#   deploy/postgres.sh stop      stop the cluster
# Idempotent: a second `start` only checks and returns. Needs root (apt, pg_ctlcluster).
set -euo pipefail

readonly DB_USER=salesledger
readonly DB_PASS=salesledger
readonly DB_NAME=salesledger
readonly DB_HOST=127.0.0.1
readonly DB_PORT=5432
readonly CLUSTER=main
readonly WAIT_SECONDS=60
readonly URL="postgresql://${DB_USER}:${DB_PASS}@${DB_HOST}:${DB_PORT}/${DB_NAME}"

# Debian's defaults are for a small shared host. On this one, which runs the service, its tests and
# its benchmarks with 24 GiB of memory, they made backends write out dirty pages themselves (128 MB of
# shared buffers for a 1 GB store) and a rebuild of the read models force a checkpoint every 1 GB of
# WAL, each followed by full-page images. Applied with ALTER SYSTEM; a restart only when one needs it.
readonly SETTINGS=(
    "shared_buffers=2GB"
    "max_wal_size=8GB"
    "checkpoint_timeout=15min"
)

log() { echo "postgres.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Run a command as the postgres superuser over the local socket (peer auth).
as_postgres() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        sudo -n -u postgres -- "$@"
    fi
}

server_installed() {
    command -v pg_ctlcluster >/dev/null 2>&1 \
        && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

ensure_installed() {
    server_installed && return 0
    log "PostgreSQL server not found; installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2 || die "apt-get update failed"
    apt-get install -y -q postgresql >&2 || die "apt-get install postgresql failed"
    server_installed || die "postgresql installed but server binaries are still missing"
}

# Newest installed major version, e.g. "15".
pg_version() {
    local v
    v=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' \
        | awk -F/ '{print $5}' | sort -V | tail -n1)
    [[ -n $v ]] || die "no PostgreSQL server version under /usr/lib/postgresql"
    echo "$v"
}

# Prints "<port> <status>" of cluster $1/$CLUSTER, nothing if it does not exist.
cluster_info() {
    pg_lsclusters --no-header 2>/dev/null | awk -v v="$1" -v c="$CLUSTER" \
        '$1 == v && $2 == c {print $3, $4}'
}

wait_ready() {
    local deadline=$((SECONDS + WAIT_SECONDS))
    until pg_isready -q -h "$DB_HOST" -p "$DB_PORT"; do
        if ((SECONDS >= deadline)); then
            log "last lines of the server log:"
            tail -n 20 "/var/log/postgresql/postgresql-$1-${CLUSTER}.log" >&2 || true
            die "PostgreSQL did not answer on ${DB_HOST}:${DB_PORT} within ${WAIT_SECONDS}s"
        fi
        sleep 0.5
    done
}

ensure_role_and_db() {
    # ALTER on every run so a role created by hand gets the expected password/flags.
    as_postgres psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${DB_USER}') THEN
        CREATE ROLE ${DB_USER} LOGIN CREATEDB PASSWORD '${DB_PASS}';
    ELSE
        ALTER ROLE ${DB_USER} LOGIN CREATEDB PASSWORD '${DB_PASS}';
    END IF;
END
\$\$;
SQL
    local exists
    exists=$(as_postgres psql -X -tA -v ON_ERROR_STOP=1 -d postgres \
        -c "SELECT 1 FROM pg_database WHERE datname = '${DB_NAME}'")
    if [[ $exists != 1 ]]; then
        log "creating database ${DB_NAME}"
        as_postgres createdb -O "$DB_USER" "$DB_NAME"
    else
        as_postgres psql -X -q -v ON_ERROR_STOP=1 -d postgres \
            -c "ALTER DATABASE ${DB_NAME} OWNER TO ${DB_USER}" >/dev/null
    fi
}

tune() {
    local setting pending
    for setting in "${SETTINGS[@]}"; do
        as_postgres psql -X -q -v ON_ERROR_STOP=1 -d postgres \
            -c "ALTER SYSTEM SET ${setting%%=*} = '${setting#*=}'" >/dev/null
    done
    as_postgres psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "SELECT pg_reload_conf()" >/dev/null
    # The server reads its files again on the signal, a moment after the call returns.
    sleep 1
    pending=$(as_postgres psql -X -tA -v ON_ERROR_STOP=1 -d postgres \
        -c "SELECT count(*) FROM pg_settings WHERE pending_restart")
    if [[ $pending != 0 ]]; then
        log "restarting cluster $1/${CLUSTER} for its settings (${SETTINGS[*]})"
        pg_ctlcluster "$1" "$CLUSTER" restart >&2 || die "pg_ctlcluster restart failed"
        wait_ready "$1"
    fi
}

start() {
    ensure_installed
    local version info port status
    version=$(pg_version)
    info=$(cluster_info "$version")
    if [[ -z $info ]]; then
        log "creating cluster ${version}/${CLUSTER} on port ${DB_PORT}"
        pg_createcluster --port "$DB_PORT" "$version" "$CLUSTER" >&2 \
            || die "pg_createcluster failed"
        info=$(cluster_info "$version")
    fi
    read -r port status <<<"$info"
    [[ $port == "$DB_PORT" ]] \
        || die "cluster ${version}/${CLUSTER} uses port ${port}, expected ${DB_PORT}"
    if [[ $status != online* ]]; then
        log "starting cluster ${version}/${CLUSTER}"
        pg_ctlcluster "$version" "$CLUSTER" start >&2 || die "pg_ctlcluster start failed"
    fi
    wait_ready "$version"
    tune "$version"
    ensure_role_and_db
    # Prove password auth over TCP, which is what the app and tests use.
    PGCONNECT_TIMEOUT=10 psql -X -q "$URL" -tA -c 'select 1' >/dev/null \
        || die "cannot log in as ${DB_USER} over TCP (check pg_hba.conf / listen_addresses)"
    echo "$URL"
}

stop() {
    if ! command -v pg_ctlcluster >/dev/null 2>&1; then
        log "PostgreSQL is not installed; nothing to stop"
        return 0
    fi
    local version info status
    version=$(pg_version)
    info=$(cluster_info "$version")
    status=${info#* }
    if [[ -n $info && $status == online* ]]; then
        pg_ctlcluster "$version" "$CLUSTER" stop >&2 || die "pg_ctlcluster stop failed"
        log "stopped cluster ${version}/${CLUSTER}"
    else
        log "cluster ${version}/${CLUSTER} is not running"
    fi
}

case ${1:-start} in
    start) start ;;
    stop) stop ;;
    *) die "usage: $0 [start|stop]" ;;
esac
