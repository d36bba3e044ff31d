#!/usr/bin/env bash
# The database goes away: a live space plays on (its members keep their
# dialogs), a new start gets 503 with Retry-After and writes nothing; when
# the database is back, tvspaced reconnects by itself and serves again.
# This test runs its own PostgreSQL cluster, so stopping it touches no
# other test.
. "$(dirname "$0")/../lib/e2e.sh"
OWN=$E2E_DIR/pg
OWN_PORT=54341
"$SRC/scripts/pgctl.sh" start "$OWN" "$OWN_PORT"
trap '"$SRC/scripts/pgctl.sh" stop "$OWN" "$OWN_PORT"; e2e_cleanup' EXIT
PGCLUSTER=$OWN
PGPORT_NUM=$OWN_PORT
PGHOST_DIR=$OWN/run
CONN="host=$OWN/run port=$OWN_PORT dbname=$DBNAME user=postgres"
db_fresh
tv_start

sipp_start host host_start alice share 5091 4000
wait_for "select count(*) from spaces where state = 'live'" 1
"$SRC/scripts/pgctl.sh" stop "$OWN" "$OWN_PORT"
sleep 0.5
sipp_run refused host_db_down bob share 5092
"$SRC/scripts/pgctl.sh" start "$OWN" "$OWN_PORT"
for _ in $(seq 1 50); do
	grep -q "database connected" <(tail -n 5 "$E2E_DIR/tvspaced.log") && break
	sleep 0.1
done
sipp_run again host_start carol share 5093 200
sipp_wait host
expect_sql "select count(*) from spaces where host_user = 'bob'" 0
expect_sql "select state from spaces where host_user = 'carol'" ended
wait_for "select state from spaces where host_user = 'alice'" ended
e2e_finish
