#!/usr/bin/env bash
# A throwaway PostgreSQL server for the postgres plugin's integration tests.
#
#   .ci/postgres.sh start   install Debian's postgresql if needed, create the
#                           cluster on first use, start it (no-op when running)
#   .ci/postgres.sh stop    stop it (no-op when stopped)
#   .ci/postgres.sh clean   stop it and delete the cluster
#   .ci/postgres.sh status  exit 0 when it is running
#   .ci/postgres.sh dsn     print the DSN of the test database
#
# The cluster lives in $ARBALEST_PG_DIR (default /tmp/arbalest-pg), listens on
# 127.0.0.1:$ARBALEST_PG_PORT (default 54329) only, and has a login role
# "arbalest" (password "arbalest", checked with scram-sha-256 over TCP) that
# owns the database "arbalest". The server runs as the "postgres" user when
# this script runs as root (PostgreSQL refuses to run as root), as the
# calling user otherwise. Durability is switched off: the data is disposable.
set -euo pipefail

PGROOT=${ARBALEST_PG_DIR:-/tmp/arbalest-pg}
PORT=${ARBALEST_PG_PORT:-54329}
DATA=$PGROOT/data
SOCK=$PGROOT/sock
LOG=$PGROOT/postgres.log
USER_NAME=arbalest
PASSWORD=arbalest
DB=arbalest

die() { echo "postgres.sh: $*" >&2; exit 1; }

dsn() { echo "postgres://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$DB?sslmode=disable"; }

# bindir prints the directory holding initdb and pg_ctl: Debian installs
# them in /usr/lib/postgresql/<major>/bin, off PATH. The newest major wins.
bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
		echo "$d"
		return 0
	fi
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
		return 0
	fi
	return 1
}

install_postgres() {
	[ "$(id -u)" -eq 0 ] || die "PostgreSQL is not installed and installing it needs root (apt-get install postgresql)"
	command -v apt-get >/dev/null 2>&1 || die "PostgreSQL is not installed and apt-get is missing: install PostgreSQL's server binaries"
	echo "postgres.sh: installing postgresql with apt-get" >&2
	export DEBIAN_FRONTEND=noninteractive
	# A fresh machine may have no package lists yet; refresh them once when the
	# first attempt cannot find the package.
	if ! apt-get install -y -q --no-install-recommends postgresql >/dev/null; then
		apt-get update -q >/dev/null
		apt-get install -y -q --no-install-recommends postgresql >/dev/null
	fi
}

# as_owner runs a command as the server's owner, from / (the caller's
# directory may be unreadable to postgres).
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

owner() {
	if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

running() {
	local bin=$1
	[ -f "$DATA/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

# psql_admin runs SQL as the bootstrap superuser over the Unix socket, which
# only the owner (and root) can reach.
psql_admin() {
	local bin=$1
	shift
	as_owner "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" -U postgres -d postgres "$@"
}

init_cluster() {
	local bin=$1 major
	major=$("$bin/pg_ctl" --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')
	if [ -f "$DATA/PG_VERSION" ] && [ "$(cat "$DATA/PG_VERSION")" != "$major" ]; then
		echo "postgres.sh: the cluster in $DATA is from PostgreSQL $(cat "$DATA/PG_VERSION"), the server is $major: recreating it" >&2
		rm -rf "$DATA"
	fi
	mkdir -p "$PGROOT" "$SOCK"
	chown "$(owner)" "$PGROOT" "$SOCK"
	chmod 700 "$PGROOT" "$SOCK"
	if [ -f "$DATA/PG_VERSION" ]; then
		return 0
	fi
	rm -rf "$DATA"
	local pwfile
	pwfile=$(mktemp "$PGROOT/pw.XXXXXX")
	chown "$(owner)" "$pwfile"
	# The superuser gets a random password nobody uses: it only logs in over
	# the owner-only Unix socket (trust).
	head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$pwfile"
	if ! as_owner "$bin/initdb" -D "$DATA" -U postgres --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
		--auth-local=trust --auth-host=scram-sha-256 >"$PGROOT/initdb.log" 2>&1; then
		rm -f "$pwfile"
		cat "$PGROOT/initdb.log" >&2
		die "initdb failed"
	fi
	rm -f "$pwfile"
	cat >"$DATA/pg_hba.conf" <<'EOF'
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  scram-sha-256
EOF
	cat >>"$DATA/postgresql.conf" <<EOF

# arbalest test server (.ci/postgres.sh)
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCK'
password_encryption = 'scram-sha-256'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

start() {
	local bin
	if ! bin=$(bindir); then
		install_postgres
		bin=$(bindir) || die "postgresql was installed but initdb was not found under /usr/lib/postgresql/*/bin"
	fi
	if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
		useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
	fi
	mkdir -p "$PGROOT"
	# One start at a time (parallel test jobs may all call start).
	exec 9>"$PGROOT.lock"
	flock -w 120 9 || die "timed out waiting for another postgres.sh start"
	init_cluster "$bin"
	if ! running "$bin"; then
		touch "$LOG"
		chown "$(owner)" "$LOG"
		if ! as_owner "$bin/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null; then
			tail -n 30 "$LOG" >&2 || true
			die "the server did not start (log: $LOG)"
		fi
	fi
	psql_admin "$bin" <<EOF
SELECT format('CREATE ROLE %I LOGIN', '$USER_NAME') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$USER_NAME')
\gexec
ALTER ROLE $USER_NAME LOGIN PASSWORD '$PASSWORD';
SELECT format('CREATE DATABASE %I OWNER %I', '$DB', '$USER_NAME') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB')
\gexec
EOF
	flock -u 9
}

stop() {
	local bin
	bin=$(bindir) || return 0
	if running "$bin"; then
		as_owner "$bin/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
	fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
clean)
	stop
	rm -rf "$PGROOT" "$PGROOT.lock"
	;;
status)
	bin=$(bindir) || exit 1
	running "$bin"
	;;
dsn) dsn ;;
*)
	echo "usage: $0 start|stop|clean|status|dsn" >&2
	exit 2
	;;
esac
