#!/usr/bin/env bash
# Three tvspaced nodes on one PostgreSQL behind Kamailio (docs/scaling.md),
# all on loopback: Kamailio on SIP_PORT routes new spaces to the nodes in
# turn and every request for space-N to the node serving it.  Six hosts
# start relay spaces through Kamailio and /open them; a guest joins each.
# Then the node serving h1's space is killed with SIGKILL.  Once its lease
# runs out the two others claim its spaces, take up the dialogs with
# re-INVITEs carrying their own media address, and RTP flows again from
# there (heard at h1's port).  The moved hosts then /switch and BYE through
# Kamailio, served by their new node: every space ends as its host ends it,
# every member leaves, nothing is lost.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/cluster.sh"
cluster_db
nodes_start 3
expect_sql "select string_agg(node_id || '=' || sip_uri, ' ' order by node_id) from nodes" \
	"n1=sip:127.0.0.1:$((SIP_PORT + 1)) n2=sip:127.0.0.1:$((SIP_PORT + 2)) n3=sip:127.0.0.1:$((SIP_PORT + 3))"
kamailio_start

# The hosts h1..h6 (RTP ports 46001..46006), one sipp through Kamailio.
{
	echo SEQUENTIAL
	for i in 1 2 3 4 5 6; do echo "h$i;$((46000 + i))"; done
} >"$E2E_DIR/hosts.csv"
sipp_party hosts cluster_host hosts.csv 5191 6 2000 -key target share
wait_for "select count(*) from spaces where state = 'live' and is_open" 6
expect_sql "select count(distinct node_id) from spaces" 3

# A guest in each space (RTP ports 46011..46016).
{
	echo SEQUENTIAL
	i=0
	for id in $(sql "select id from spaces order by id"); do
		i=$((i + 1))
		echo "g$i;$((46010 + i));space-$id"
	done
} >"$E2E_DIR/guests.csv"
sipp_party guests cluster_guest guests.csv 5192 6
wait_for "select count(*) from members where left_at is null and local_tag is not null" 12

# The victim: the node serving h1's space; h1's port is watched.
H1_SPACE=$(sql "select id from spaces where host_user = 'h1'")
VICTIM=$(sql "select node_id from spaces where id = $H1_SPACE")
MOVED=$(sql "select string_agg(id::text, ',' order by id) from spaces where node_id = '$VICTIM'")
log "h1's space-$H1_SPACE is on $VICTIM, which serves spaces $MOVED"
python3 "$SRC/test/lib/rtp_sources.py" 46001 12 "$E2E_DIR/h1_rtp.json" &
RX=$!
SIPP_PIDS+=("$RX")
sleep 1.5
t_kill=$(date +%s.%N)
kill -KILL "${NODE_PID[$VICTIM]}"
wait "${NODE_PID[$VICTIM]}" 2>/dev/null || true
NODE_PID[$VICTIM]=
log "$VICTIM killed with SIGKILL"

wait_for "select count(*) from spaces where state = 'live' and node_id = '$VICTIM'" 0 15
t_claimed=$(date +%s.%N)
# every member of a moved space answered the new node's re-INVITE
want=$(($(tr ',' '\n' <<<"$MOVED" | wc -l) * 2))
for i in $(seq 1 100); do
	got=$(cat "$E2E_DIR"/n?.log | grep -cE "space-[0-9]+ [hg][0-9] resumed" || true)
	[ "$got" -ge "$want" ] && break
	sleep 0.1
done
t_resumed=$(date +%s.%N)
[ "$got" -ge "$want" ] || fail "$got of $want members resumed on the new nodes"

wait "$RX" || fail "the RTP listener failed"
sipp_wait hosts
sipp_wait guests

# Nothing lost: the six spaces ended by their hosts, every member left,
# the moved ones on a live node, each space with its host and guest.
wait_for "select count(*) from spaces where state = 'ended'" 6 15
expect_sql "select count(*) from spaces where end_reason = 'space ended by host'" 6
expect_sql "select count(*) from members where left_at is null" 0
expect_sql "select count(*) from members" 12
expect_sql "select count(*) from spaces s where (select count(*) from members m where m.space_id = s.id and m.role = 'host') = 1" 6
expect_sql "select count(*) from spaces where node_id = '$VICTIM'" 0
expect_sql "select count(*) from spaces where id in ($MOVED) and node_id in ('n1','n2','n3')" \
	"$(tr ',' '\n' <<<"$MOVED" | wc -l)"
grep -q "took over" "$E2E_DIR"/n?.log || fail "no node logged a takeover"
# The second survivor claims its share when it hears the first one's claim,
# not at its own next renewal (up to a second later with a 3 s lease).
python3 - "$E2E_DIR"/n?.log <<'PY' || fail "the survivors' claims were not together"
import datetime, re, sys
first = {}
for f in sys.argv[1:]:
    for line in open(f):
        m = re.match(r"(\S+ \S+) notice cluster space-\d+ of node \S+ claimed$", line)
        if m and f not in first:
            first[f] = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
t = sorted(first.values())
print("cluster: claims by %d survivors, %.3f s apart" % (len(t), (t[-1] - t[0]).total_seconds()))
sys.exit(0 if len(t) == 2 and (t[-1] - t[0]).total_seconds() < 0.5 else 1)
PY
# h1 heard the victim, then the node that took the space over, from a port
# of that node's range.
check_json h1_rtp.json "len(r['stretches']) >= 2 and r['stretches'][0]['src'] != r['stretches'][-1]['src'] and r['stretches'][-1]['packets'] > 75"
for id in ${MOVED//,/ }; do
	node=$(sql "select node_id from spaces where id = $id")
	log "space-$id: $VICTIM -> $node"
done
python3 - "$t_kill" "$t_claimed" "$t_resumed" "$E2E_DIR/h1_rtp.json" <<'PY'
import json, sys
k, c, r = (float(x) for x in sys.argv[1:4])
gaps = json.load(open(sys.argv[4]))["gaps"]
print("cluster: takeover: claimed %.2f s, dialogs resumed %.2f s after "
      "SIGKILL (lease 3 s); h1's RTP gap %s s" %
      (c - k, r - k, max(gaps) if gaps else "none"))
PY

# Provisioning reaches every live node: a change of the service levels makes
# each load its services again, and a friendship made on one is heard by
# all (they keep the friend lists in memory).
sql "UPDATE service_levels SET capacity = capacity + 1 WHERE level = 3"
sql "SELECT tv_friend('h2', 'g2', true)"
for n in "${NODES[@]}"; do
	[ -n "${NODE_PID[$n]}" ] || continue
	for i in $(seq 1 50); do
		grep -q "reloaded:" "$E2E_DIR/$n.log" &&
			grep -q "NOTIFY tvspace 'friend h2 g2 on'" "$E2E_DIR/$n.log" &&
			break
		sleep 0.1
	done
	grep -q "reloaded:" "$E2E_DIR/$n.log" || fail "$n did not load the services again"
	grep -q "NOTIFY tvspace 'friend h2 g2 on'" "$E2E_DIR/$n.log" ||
		fail "$n did not hear of the friendship"
done
nodes_stop
e2e_finish
