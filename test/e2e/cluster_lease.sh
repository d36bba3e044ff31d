#!/usr/bin/env bash
# A node's lease is not starved by its own backlog of writes.  Two nodes
# behind Kamailio, lease 3 s, played time booked every second; h1 starts a
# relay space.  Another session then holds the usage table locked
# (EXCLUSIVE: reads pass, writes wait) for 8 s, so the node's booking waits
# on the lock and every statement queued behind it on that connection
# waits too, for longer than the lease.  The node is alive and its loop
# runs: its lease must stay renewed all along, the other node must claim
# nothing, and the space must stay where it is and end with its host.
# (Renewed on the connection of the node's writes, the lease ran out after
# 3 s, the other node claimed the space and the first stopped, fenced.)
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/cluster.sh"
one_space_on_two 46101 2000
NODE=$(sql "select node_id from spaces where id = 1")
sleep 1.5 # a booking or two goes through first

psql "$CONN" -XAtq -v ON_ERROR_STOP=1 >"$E2E_DIR/lock.out" 2>&1 <<'SQL' &
BEGIN;
LOCK TABLE usage IN EXCLUSIVE MODE;
SELECT pg_sleep(8);
COMMIT;
SQL
LOCKER=$!
SIPP_PIDS+=("$LOCKER")
log "usage locked for 8 s; $NODE serves space-1"
blocked=0 lost=0 n=0
while kill -0 "$LOCKER" 2>/dev/null; do
	sleep 0.2
	n=$((n + 1))
	[ "$(sql "select count(*) from pg_stat_activity
		  where wait_event_type = 'Lock'")" = 0 ] ||
		blocked=$((blocked + 1))
	[ "$(sql "select lease_until > now() from nodes
		  where node_id = '$NODE'")" = t ] || lost=$((lost + 1))
done
wait "$LOCKER" || fail "the locking session failed: $(cat "$E2E_DIR/lock.out")"
log "samples with $NODE's booking waiting on the lock: $blocked of $n;" \
	"with its lease run out: $lost of $n"
# the first second may pass before the next booking comes
[ $((blocked * 3)) -ge $((n * 2)) ] ||
	fail "the node's writes did not wait on the lock"
[ "$lost" = 0 ] || fail "$NODE's lease ran out while its writes waited"
kill -0 "${NODE_PID[$NODE]}" 2>/dev/null || fail "$NODE stopped"
expect_sql "select node_id from spaces where id = 1" "$NODE"
for n in "${NODES[@]}"; do
	! grep -q " claimed$" "$E2E_DIR/$n.log" || fail "$n claimed a space"
done

sipp_wait host
wait_for "select state from spaces" ended
expect_sql "select end_reason from spaces" "space ended by host"
expect_sql "select count(*) from members where left_at is null" 0
nodes_stop
e2e_finish
