#!/usr/bin/env bash
# A private PostgreSQL cluster in a folder, for the tests and the demo.
#   pgctl.sh start DIR PORT        initdb if needed, start, wait until ready
#   pgctl.sh stop DIR PORT         stop (fast); fine if not running
#   pgctl.sh createdb DIR PORT DB  drop DB if it exists, create it empty
# The cluster listens on a Unix socket in DIR/run only (no TCP), with trust
# authentication for its superuser "postgres"; connect with
#   host=DIR/run port=PORT dbname=DB user=postgres
# PGCTL_TCP=1 makes it listen on 127.0.0.1:PORT too (for a client that
# cannot use a socket folder, such as Kamailio's db_postgres).
# Run as root, the server runs as the postgres user (PostgreSQL refuses
# root); otherwise as the calling user.
set -euo pipefail

usage() {
	echo "usage: $0 start|stop DIR PORT | createdb DIR PORT DB" >&2
	exit 2
}
[ $# -ge 3 ] || usage
cmd=$1
dir=$(realpath -m "$2")
port=$3

bindir=$(pg_config --bindir 2>/dev/null || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/pg_ctl" ]; then
	bindir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1)
fi
[ -x "$bindir/pg_ctl" ] || {
	echo "$0: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
	exit 1
}

as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		# -H: a HOME the postgres user can read; cd: a folder it may be in
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

psql_admin() {
	PGOPTIONS="-c client_min_messages=warning" psql -XAtq -v ON_ERROR_STOP=1 \
		"host=$dir/run port=$port dbname=postgres user=postgres" "$@"
}

tcp=
[ "${PGCTL_TCP:-0}" = 1 ] && tcp=127.0.0.1

case $cmd in
start)
	mkdir -p "$dir/run"
	if [ "$(id -u)" -eq 0 ]; then
		chown -R postgres: "$dir"
		# The postgres user must be able to reach DIR.
		p=$dir
		while [ "$p" != / ]; do
			p=$(dirname "$p")
			chmod o+x "$p" 2>/dev/null || true
		done
	fi
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_owner "$bindir/initdb" -D "$dir/data" -U postgres \
			--auth=trust --encoding=UTF8 --locale=C.UTF-8 \
			>"$dir/initdb.log" 2>&1 || {
			cat "$dir/initdb.log" >&2
			exit 1
		}
	fi
	if as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		exit 0
	fi
	as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
		-o "-p $port -k $dir/run -c listen_addresses=${tcp} -c fsync=on" \
		start >/dev/null || {
		tail -n 20 "$dir/log" >&2
		exit 1
	}
	;;
stop)
	if [ -f "$dir/data/PG_VERSION" ]; then
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop \
			>/dev/null 2>&1 || true
	fi
	;;
createdb)
	[ $# -eq 4 ] || usage
	db=$4
	[[ $db =~ ^[a-z_][a-z0-9_]*$ ]] || {
		echo "$0: database name must be [a-z_][a-z0-9_]*" >&2
		exit 2
	}
	psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
	psql_admin -c "CREATE DATABASE $db" >/dev/null
	;;
*)
	usage
	;;
esac
