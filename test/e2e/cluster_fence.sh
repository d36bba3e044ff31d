#!/usr/bin/env bash
# A node that was away comes back to find its space served by another, and
# keeps out of it (fencing).  Two nodes behind Kamailio; h1 starts a relay
# space and g1 joins; the node serving it is stopped (SIGSTOP) past its
# lease, so the other claims the space and takes the dialogs up.  Woken
# (SIGCONT), the old node hears of the claim and stops at once with status
# 75 without a word to the members (no BYE: their SIPp would fail on one),
# so its relay leg goes quiet, and it books no played time for the space
# (played time is booked every second here, and the total is no more than
# the space lasted).  Started again, it serves nothing (the space is the
# other node's).  The host then /switches and ends the space on its new
# node.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/cluster.sh"
one_space_on_two 46001 6000
printf 'SEQUENTIAL\ng1;46011;space-1\n' >"$E2E_DIR/guests.csv"
sipp_party guest cluster_guest guests.csv 5192 1
wait_for "select count(*) from members where left_at is null and local_tag is not null" 2

VICTIM=$(sql "select node_id from spaces where id = 1")
python3 "$SRC/test/lib/rtp_sources.py" 46001 16 "$E2E_DIR/h1_rtp.json" &
RX=$!
SIPP_PIDS+=("$RX")
sleep 1
kill -STOP "${NODE_PID[$VICTIM]}"
log "$VICTIM stopped (SIGSTOP)"
wait_for "select count(*) from spaces where state = 'live' and node_id <> '$VICTIM'" 1 15
NEW=$(sql "select node_id from spaces where id = 1")
for i in $(seq 1 50); do
	[ "$(grep -cE "space-1 [hg]1 resumed" "$E2E_DIR/$NEW.log")" -ge 2 ] && break
	sleep 0.1
done
sleep 0.5
kill -CONT "${NODE_PID[$VICTIM]}"
log "$VICTIM woken (SIGCONT); $NEW serves space-1"
rc=0
wait "${NODE_PID[$VICTIM]}" || rc=$?
NODE_PID[$VICTIM]=
[ "$rc" -eq 75 ] || fail "$VICTIM exited with status $rc, not 75"
grep -q "claimed by $NEW while this node was away" "$E2E_DIR/$VICTIM.log" ||
	fail "$VICTIM did not say why it stopped"
mv "$E2E_DIR/$VICTIM.log" "$E2E_DIR/$VICTIM.fenced.log"
"$TVSPACED" --config "$E2E_DIR/$VICTIM.conf" --db "$CONN" \
	>"$E2E_DIR/$VICTIM.log" 2>&1 &
NODE_PID[$VICTIM]=$!
for i in $(seq 1 100); do
	grep -q "ready:" "$E2E_DIR/$VICTIM.log" && break
	sleep 0.1
done
grep -q "ready: 0 live spaces" "$E2E_DIR/$VICTIM.log" ||
	fail "$VICTIM restarted with spaces that are not its own"

sipp_wait host
sipp_wait guest
wait "$RX" || fail "the RTP listener failed"
wait_for "select state from spaces" ended
expect_sql "select end_reason from spaces" "space ended by host"
expect_sql "select count(*) from members where left_at is null" 0
# played time booked once: no more than the space lasted (+1 s rounding)
expect_sql "select (select sum(seconds) from usage where service_default_id = 'svc-h1') <= extract(epoch from ended - started)::int + 1 from spaces" t
python3 - "$E2E_DIR/h1_rtp.json" <<'PY' || FAILED=1
import json, sys
r = json.load(open(sys.argv[1]))
old = r["stretches"][0]["src"]
late = sum(s["packets"] for s in r["stretches"][1:] if s["src"] == old)
print("cluster_fence: stretches", [(s["src"], s["first"], s["last"],
                                   s["packets"]) for s in r["stretches"]])
print("cluster_fence: packets from the old node after the new node's "
      "first: %d" % late)
sys.exit(0 if late <= 10 and len(r["stretches"]) >= 2 and
         r["stretches"][-1]["src"] != old else 1)
PY
nodes_stop
e2e_finish
