#!/usr/bin/env bash
# Takeover at scale: three release-built nodes behind Kamailio
# (etc/kamailio-tvspace.cfg) on one PostgreSQL, SPACES relay spaces started
# through Kamailio (spread over the nodes in turn) with GUESTS guests each;
# then one node is killed with SIGKILL and the table says how long until
# its spaces were claimed, until the new nodes had loaded them and sent
# their re-INVITEs, and until the last member of them had answered.  The
# hosts then /switch and hang up through Kamailio; every space must end
# with its members, none lost.
#   bench/takeover.sh [SPACES] [GUESTS] [LEASE]      (default 150 2 3)
#   TAKEOVER_RATE=200: hosts and guests dialling in a second
export PGCTL_TCP=1 # Kamailio's db_postgres needs TCP
. "$(dirname "$0")/lib.sh"
SPACES=${1:-150}
GUESTS=${2:-2}
LEASE=${3:-3}
SCEN=$SRC/test/sipp

command -v kamailio >/dev/null || {
	echo "kamailio is not installed (scripts/deps.sh installs it)" >&2
	exit 1
}
KAM_MODULES=$(dirname "$(dpkg -L kamailio | grep '/tm\.so$')")

bench_db
psql "$CONN" -Xq -v ON_ERROR_STOP=1 >/dev/null <<SQL
INSERT INTO users (user_id)
SELECT 'h' || i FROM generate_series(1, $SPACES) i UNION ALL
SELECT 'g' || i FROM generate_series(1, $SPACES * $GUESTS) i;
INSERT INTO services (service_default_id, user_id, level, default_channel,
		      is_default)
SELECT 'svc-' || user_id, user_id, 3, 'music', true FROM users
 WHERE user_id ~ '^[hg][0-9]+$';
SQL
q() { psql "$CONN" -XAtqc "$1"; }

declare -A PID
for i in 1 2 3; do
	cat >"$WORK/n$i.conf" <<CONF
listen = sip:127.0.0.1:$((SIP + i))
lineup = $SRC/etc/demo-lineup.m3u
trust_loopback_from = yes
log_level = info
node_id = n$i
lease_time = $LEASE
rtp_port_min = $((30000 + i * 3000))
rtp_port_max = $((32999 + i * 3000))
member_notices = no
CONF
	"$BUILD/tvspaced" --config "$WORK/n$i.conf" --db "$CONN" \
		>"$WORK/n$i.log" 2>&1 &
	PID[n$i]=$!
	BENCH_PIDS+=("${PID[n$i]}")
	echo "1 sip:127.0.0.1:$((SIP + i))"
done >"$WORK/nodes.list"
for i in 1 2 3; do
	for _ in $(seq 1 100); do
		grep -q "ready:" "$WORK/n$i.log" && break
		sleep 0.1
	done
done
kamailio -f "$SRC/etc/kamailio-tvspace.cfg" -L "$KAM_MODULES" -D -E -n 2 \
	-A "LISTEN=udp:127.0.0.1:$SIP" \
	-A "DBURL=\"tv=>postgres://postgres@127.0.0.1:$PGPORT/tvbench\"" \
	-A "NODES=\"$WORK/nodes.list\"" >"$WORK/kamailio.log" 2>&1 &
BENCH_PIDS+=($!)
sleep 3 # dispatcher's first OPTIONS round

# Hosts and guests dial in at RATE a second; each waits for the takeover's
# re-INVITE (the test scenarios wait 40 and 25 s) long enough for all of
# them to have started and the lease to have run out: copies of the
# scenarios with that wait.
RATE=${TAKEOVER_RATE:-200}
WAIT=$(((SPACES + SPACES * GUESTS) * 1000 / RATE + LEASE * 2000 + 40000))
sed "s/timeout=\"40000\"/timeout=\"$WAIT\"/" "$SCEN/bench_cluster_host.xml" \
	>"$WORK/bench_cluster_host.xml"
sed "s/timeout=\"25000\"/timeout=\"$((WAIT - 15000))\"/" \
	"$SCEN/bench_cluster_guest.xml" >"$WORK/bench_cluster_guest.xml"
# wait_for WHAT QUERY N SECONDS: until QUERY counts N; a party whose calls
# failed (its SIPp's errors in $WORK/NAME.errors) never gets there, and
# the run ends saying so instead of waiting for ever.
wait_for() {
	local until=$((SECONDS + $4)) n
	while n=$(q "$2") && [ "$n" -lt "$3" ]; do
		if [ $SECONDS -ge $until ]; then
			echo "$1: $n of $3 after $4 s (SIPp's errors: $WORK/*.errors)" >&2
			exit 1
		fi
		sleep 0.2
	done
}
party() { # NAME SCENARIO CSV PORT CALLS RATE
	sipp -sf "$WORK/$2.xml" -inf "$WORK/$3" -m "$5" -r "$6" -l "$5" \
		-nostdin -i 127.0.0.1 -p "$4" -d 2000 -key target share \
		-timeout $((WAIT / 1000 + 120))s -timeout_error \
		-recv_timeout $((WAIT + 20000)) \
		-trace_err -error_file "$WORK/$1.errors" \
		-trace_msg -message_file "$WORK/$1.msg" \
		"127.0.0.1:$SIP" >"$WORK/$1.out" 2>&1 &
	BENCH_PIDS+=($!)
	printf -v "P_$1" '%s' $!
}
{
	echo SEQUENTIAL
	for i in $(seq 1 "$SPACES"); do echo "h$i;40000"; done
} >"$WORK/hosts.csv"
party hosts bench_cluster_host hosts.csv 5185 "$SPACES" "$RATE"
wait_for "spaces open" "select count(*) from spaces where is_open" \
	"$SPACES" $((SPACES / RATE + 60))
{
	echo SEQUENTIAL
	g=0
	for id in $(q "select id from spaces order by id"); do
		for _ in $(seq 1 "$GUESTS"); do
			g=$((g + 1))
			echo "g$g;40000;space-$id"
		done
	done
} >"$WORK/guests.csv"
party guests bench_cluster_guest guests.csv 5186 $((SPACES * GUESTS)) "$RATE"
want=$((SPACES * (GUESTS + 1)))
wait_for "members held" \
	"select count(*) from members where left_at is null and local_tag is not null" \
	"$want" $((SPACES * GUESTS / RATE + 60))
per_node=$(q "select string_agg(node_id || ' ' || n, ', ' order by node_id) from (select node_id, count(*) n from spaces group by 1) x")

VICTIM=n2
moved=$(q "select count(*) from spaces where node_id = '$VICTIM'")
moved_members=$((moved * (GUESTS + 1)))
t_kill=$(date +%s.%N)
kill -KILL "${PID[$VICTIM]}"
until [ "$(q "select count(*) from spaces where state = 'live' and node_id = '$VICTIM'")" = 0 ]; do
	sleep 0.05
done
t_claim=$(date +%s.%N)
for _ in $(seq 1 $((600 + SPACES))); do
	[ "$(cat "$WORK/n1.log" "$WORK/n3.log" | grep -cE " resumed$")" -ge $moved_members ] && break
	sleep 0.05
done
resumed=$(cat "$WORK/n1.log" "$WORK/n3.log" | grep -cE " resumed$" || true)
split=$(q "select string_agg(node_id || ' ' || n, ', ' order by node_id) from (select node_id, count(*) n from spaces group by 1) x")

wait "$P_hosts" && hosts_ok=yes || hosts_ok=no
wait "$P_guests" && guests_ok=yes || guests_ok=no
for _ in $(seq 1 150); do
	[ "$(q "select count(*) from spaces where state = 'live'")" = 0 ] && break
	sleep 0.2
done
ended=$(q "select count(*) from spaces where end_reason = 'space ended by host'")
left=$(q "select count(*) from members where left_at is not null")

python3 - "$t_kill" "$t_claim" "$WORK" "$LEASE" <<PY
import datetime, glob, re, sys
kill, claim = float(sys.argv[1]), float(sys.argv[2])
def stamps(pattern):
    out = []
    for f in ("n1.log", "n3.log"):
        for line in open(sys.argv[3] + "/" + f):
            if re.search(pattern, line):
                t = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S.%f")
                out.append(t.timestamp())
    return out
took = stamps("took over")
res = stamps(" resumed$")
print("| nodes | spaces | members | lease | moved | claimed after kill | loaded, re-INVITEs sent | last member resumed |")
print("|---|---|---|---|---|---|---|---|")
print("| 3 ($per_node) | $SPACES | $want | ${LEASE} s | $moved spaces, $moved_members members -> $split | %.2f s | %.2f s | %.2f s (%d of $moved_members) |" % (
    claim - kill, max(took) - kill if took else float("nan"),
    max(res) - kill if res else float("nan"), len(res)))
PY
echo "afterwards: hosts' SIPp passed: $hosts_ok, guests': $guests_ok; spaces ended by their hosts: $ended of $SPACES; members left: $left of $want; still live: $(q "select count(*) from spaces where state = 'live'")"
