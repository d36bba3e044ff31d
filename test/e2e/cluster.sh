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
command -v kamailio >/dev/null || die "kamailio is not installed"
KAM_MODULES=$(dirname "$(dpkg -L kamailio | grep '/tm\.so$')")
[ -f "$KAM_MODULES/db_postgres.so" ] ||
	die "kamailio-postgres-modules is not installed"

# A cluster of its own that listens on TCP: Kamailio's db_postgres cannot
# use a socket folder.
PGPORT_NUM=54339
PGCLUSTER=$E2E_DIR/pg
PGHOST_DIR=$PGCLUSTER/run
CONN="host=$PGHOST_DIR port=$PGPORT_NUM dbname=$DBNAME user=postgres"
PGCTL_TCP=1 "$SRC/scripts/pgctl.sh" start "$PGCLUSTER" $PGPORT_NUM
db_fresh

NODES=(n1 n2 n3)
declare -A NODE_PID NODE_PORT
KAM_PID=
cluster_cleanup() {
	local n
	for n in "${NODES[@]}"; do
		[ -z "${NODE_PID[$n]:-}" ] || kill -KILL "${NODE_PID[$n]}" 2>/dev/null || true
	done
	[ -z "$KAM_PID" ] || kill "$KAM_PID" 2>/dev/null || true
	e2e_cleanup
	"$SRC/scripts/pgctl.sh" stop "$PGCLUSTER" $PGPORT_NUM
}
trap cluster_cleanup EXIT

sql "INSERT INTO users (user_id)
     SELECT 'h' || i FROM generate_series(1, 6) i UNION ALL
     SELECT 'g' || i FROM generate_series(1, 6) i;
     INSERT INTO services (service_default_id, user_id, level,
			   default_channel, is_default)
     SELECT 'svc-' || user_id, user_id, 3, 'music', true FROM users
      WHERE user_id ~ '^[hg][0-9]$'"

i=0
for n in "${NODES[@]}"; do
	i=$((i + 1))
	NODE_PORT[$n]=$((SIP_PORT + i))
	cat >"$E2E_DIR/$n.conf" <<CONF
listen = sip:127.0.0.1:${NODE_PORT[$n]}
domain = tvspace.test
lineup = $SRC/etc/demo-lineup.m3u
trust_loopback_from = yes
node_id = $n
lease_time = 3
rtp_port_min = $((20000 + i * 1000))
rtp_port_max = $((20999 + i * 1000))
log_level = debug
CONF
	"$TVSPACED" --config "$E2E_DIR/$n.conf" --db "$CONN" \
		>"$E2E_DIR/$n.log" 2>&1 &
	NODE_PID[$n]=$!
done
for n in "${NODES[@]}"; do
	for i in $(seq 1 100); do
		grep -q "ready:" "$E2E_DIR/$n.log" && break
		kill -0 "${NODE_PID[$n]}" 2>/dev/null || die "node $n exited"
		sleep 0.1
	done
	grep -q "ready:" "$E2E_DIR/$n.log" || die "node $n did not become ready"
done
expect_sql "select string_agg(node_id || '=' || sip_uri, ' ' order by node_id) from nodes" \
	"n1=sip:127.0.0.1:$((SIP_PORT + 1)) n2=sip:127.0.0.1:$((SIP_PORT + 2)) n3=sip:127.0.0.1:$((SIP_PORT + 3))"

for n in "${NODES[@]}"; do
	echo "1 sip:127.0.0.1:${NODE_PORT[$n]}"
done >"$E2E_DIR/nodes.list"
kamailio -f "$SRC/etc/kamailio-tvspace.cfg" -L "$KAM_MODULES" -D -E -n 2 \
	-A "LISTEN=udp:127.0.0.1:$SIP_PORT" \
	-A "DBURL=\"tv=>postgres://postgres@127.0.0.1:$PGPORT_NUM/$DBNAME\"" \
	-A "NODES=\"$E2E_DIR/nodes.list\"" -P "$E2E_DIR/kamailio.pid" \
	>"$E2E_DIR/kamailio.log" 2>&1 &
KAM_PID=$!
wait_udp "$SIP_PORT"
sleep 2 # dispatcher's first OPTIONS round: every node answers

# The hosts h1..h6 (RTP ports 30001..30006), one sipp through Kamailio.
{
	echo SEQUENTIAL
	for i in 1 2 3 4 5 6; do echo "h$i;$((30000 + i))"; done
} >"$E2E_DIR/hosts.csv"
sipp -sf "$SCEN/cluster_host.xml" -inf "$E2E_DIR/hosts.csv" -key target share \
	-m 6 -r 10 \
	-l 6 -nostdin -i 127.0.0.1 -p 5191 -d 2000 \
	-timeout 60s -timeout_error -recv_timeout 40000 \
	-trace_err -error_file "$E2E_DIR/hosts.errors" \
	-trace_msg -message_file "$E2E_DIR/hosts.msg" \
	"127.0.0.1:$SIP_PORT" >"$E2E_DIR/hosts.out" 2>&1 &
SIPP_hosts=$!
SIPP_PIDS+=("$SIPP_hosts")
wait_for "select count(*) from spaces where state = 'live' and is_open" 6
expect_sql "select count(distinct node_id) from spaces" 3

# A guest in each space (RTP ports 30011..30016).
{
	echo SEQUENTIAL
	i=0
	for id in $(sql "select id from spaces order by id"); do
		i=$((i + 1))
		echo "g$i;$((30010 + i));space-$id"
	done
} >"$E2E_DIR/guests.csv"
sipp -sf "$SCEN/cluster_guest.xml" -inf "$E2E_DIR/guests.csv" -m 6 -r 10 \
	-l 6 -nostdin -i 127.0.0.1 -p 5192 \
	-timeout 60s -timeout_error -recv_timeout 40000 \
	-trace_err -error_file "$E2E_DIR/guests.errors" \
	-trace_msg -message_file "$E2E_DIR/guests.msg" \
	"127.0.0.1:$SIP_PORT" >"$E2E_DIR/guests.out" 2>&1 &
SIPP_guests=$!
SIPP_PIDS+=("$SIPP_guests")
wait_for "select count(*) from members where left_at is null and local_tag is not null" 12

# The victim: the node serving h1's space; h1's port is watched.
H1_SPACE=$(sql "select id from spaces where host_user = 'h1'")
VICTIM=$(sql "select node_id from spaces where id = $H1_SPACE")
MOVED=$(sql "select string_agg(id::text, ',' order by id) from spaces where node_id = '$VICTIM'")
log "h1's space-$H1_SPACE is on $VICTIM, which serves spaces $MOVED"
python3 "$SRC/test/lib/rtp_sources.py" 30001 12 "$E2E_DIR/h1_rtp.json" &
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

for n in "${NODES[@]}"; do
	[ -n "${NODE_PID[$n]}" ] || continue
	kill -TERM "${NODE_PID[$n]}"
	wait "${NODE_PID[$n]}" || fail "node $n exited with status $?"
	NODE_PID[$n]=
done
e2e_finish
