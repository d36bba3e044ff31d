#!/usr/bin/env bash
# Run tvspace on this machine: install what is missing, build, start a
# private PostgreSQL cluster under .demo/pg, load the schema, the demo
# subscribers and the demo lineup, and serve SIP on sip:127.0.0.1:5060
# until Ctrl-C.  Options after -- go to tvspaced (e.g. -- --verbose).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target tvspaced --target tvspacectl

PGDIR=$top/.demo/pg
PGPORT=${TVSPACE_DEMO_PGPORT:-54320}
scripts/pgctl.sh start "$PGDIR" "$PGPORT"
stop_pg() { scripts/pgctl.sh stop "$PGDIR" "$PGPORT" || true; }
trap stop_pg EXIT

admin="host=$PGDIR/run port=$PGPORT dbname=postgres user=postgres"
conn="host=$PGDIR/run port=$PGPORT dbname=tvspace user=postgres"
if [ "$(psql "$admin" -XAtc "select 1 from pg_database where datname = 'tvspace'")" != 1 ]; then
	psql "$admin" -Xqc "create database tvspace" >/dev/null
fi
build/tvspaced --db "$conn" --migrate
psql "$conn" -Xq -v ON_ERROR_STOP=1 -f db/demo.sql >/dev/null

shift_args=()
if [ "${1:-}" = "--" ]; then
	shift
	shift_args=("$@")
fi
echo "tvspace demo: factory sip:share@127.0.0.1:5060, users alice bob carol dave erin frank"
echo "database: psql \"$conn\""
build/tvspaced --config etc/demo.conf --db "$conn" "${shift_args[@]}" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' INT TERM
wait $pid || true
wait $pid 2>/dev/null || true
