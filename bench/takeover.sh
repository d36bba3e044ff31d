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
#   TAKEOVER_LINEUP=FILE: the nodes' lineup (default bench/feeds-lineup.m3u)
#   TAKEOVER_CONF='reinvite_window = 64': more lines for the nodes' config
#   TAKEOVER_AFTER=MS: hosts resumed wait that long (and a spread) before
#     their /switch and hang-up (default past the goal; 0: at once)
#   TAKEOVER_KAM_ARGS='-n 4': Kamailio's workers; TAKEOVER_HOPS=1: every
#     re-INVITE timed hop by hop; TAKEOVER_PGSS=1: PostgreSQL's statements
# SPACES is the total: the dead node holds a third of them.
#
# What the run measures is the takeover of the signalling: claims, loading,
# re-INVITEs through Kamailio.  So the default lineup is external feeds that
# nobody sends during the run: every member still has its relay leg (a
# port pair of its node, the address its re-INVITE carries), but no packet
# flows.  With etc/demo-lineup.m3u each relay member gets Music Radio's
# 50 packets a second from its node: 1,000 spaces of a host and a guest are
# 100,000 packets a second, 10,000 spaces a million, more than this
# machine's two cores can send (docs/performance.md: 350,000 to 450,000 a
# second per core), and the nodes' loops, late, shed new dialogs.
#
# Each node sends media from an address of its own (127.0.0.11, .12, .13)
# with relay ports 20000-59999 (20,000 legs): on one address three nodes
# could not hold 10,000 spaces (a survivor of them holds 10,000 legs, each
# a port pair), and ran out of ports ("no relay leg (Address already in
# use)": 500).  A party whose INVITE gets 500 or a node's 503 (a node
# that sheds load) tries again 2 s later, at most 3 times
# (test/sipp/gen_scenarios.py, bench_attempts()); the nodes' shed counts
# are printed.  A 408, or Kamailio's 503 for a node that did not answer in
# 3 s, fails the call: the node may have taken it late.  Before the kill
# the run waits until every dialog is in and the nodes are quiet (not
# overloaded, database queues drained, every lease held) for 3 s, and it
# stops, saying so, if any space moved before the kill.
export PGCTL_TCP=1 # Kamailio's db_postgres needs TCP
. "$(dirname "$0")/lib.sh"
SPACES=${1:-150}
GUESTS=${2:-2}
LEASE=${3:-3}
SCEN=$SRC/test/sipp
LINEUP=${TAKEOVER_LINEUP:-$SRC/bench/feeds-lineup.m3u}
PORT_MIN=20000
PORT_MAX=59999
# a survivor ends up with half the spaces, each member a leg of 2 ports
legs=$(((SPACES + 1) / 2 * (GUESTS + 1)))
[ "$legs" -le $(((PORT_MAX - PORT_MIN + 1) / 2)) ] || {
	echo "$SPACES spaces of $((GUESTS + 1)) members need $legs relay legs on a survivor; a node has $(((PORT_MAX - PORT_MIN + 1) / 2))" >&2
	exit 1
}
# and every leg is a socket: past the open files a process may have, legs
# fail ("no relay leg: out of open files").
# tvspaced.service allows 65,536; a shell may allow fewer, and root (with
# CAP_SYS_RESOURCE) may raise its own hard limit to that (tvspaced raises its soft limit to the
# hard one at start, and logs it).
[ "$(id -u)" != 0 ] || [ "$(ulimit -Hn)" -ge 65536 ] ||
	ulimit -Hn 65536 2>/dev/null || true
fds=$((legs + 300))
[ "$fds" -le "$(ulimit -Hn)" ] ||
	echo "warning: a survivor needs about $fds open files for $legs relay legs; this shell allows $(ulimit -Hn): some legs will fail" >&2
ulimit -n "$(ulimit -Hn)"

command -v kamailio >/dev/null || {
	echo "kamailio is not installed (scripts/deps.sh installs it)" >&2
	exit 1
}
KAM_MODULES=$(dirname "$(dpkg -L kamailio | grep '/tm\.so$')")

# TAKEOVER_PGSS=1: PostgreSQL counts its statements (pg_stat_statements,
# loaded at its start: the cluster is restarted with it, and without it
# on a run without).
pgss=$(psql "host=$PGDIR/run port=$PGPORT dbname=postgres user=postgres" \
	-XAtqc "show shared_preload_libraries")
if [ "$pgss" != "${TAKEOVER_PGSS:+pg_stat_statements}" ]; then
	if [ -n "${TAKEOVER_PGSS:-}" ]; then
		set_pgss="alter system set shared_preload_libraries = 'pg_stat_statements'"
	else
		set_pgss="alter system reset shared_preload_libraries"
	fi
	psql "host=$PGDIR/run port=$PGPORT dbname=postgres user=postgres" -Xq \
		-c "$set_pgss"
	scripts/pgctl.sh stop "$PGDIR" "$PGPORT"
	scripts/pgctl.sh start "$PGDIR" "$PGPORT"
fi
bench_db
[ -z "${TAKEOVER_PGSS:-}" ] ||
	psql "$CONN" -Xqc "create extension pg_stat_statements" >/dev/null
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
lineup = $LINEUP
trust_loopback_from = yes
log_level = info
node_id = n$i
lease_time = $LEASE
media_addr = 127.0.0.$((10 + i))
rtp_port_min = $PORT_MIN
rtp_port_max = $PORT_MAX
metrics_listen = 127.0.0.1:$((9480 + i))
member_notices = no
${TAKEOVER_CONF:-}
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
# Kamailio's default 64 MB of shared memory ran out at 10,000 spaces
# during the takeover's burst of re-INVITEs ("could not allocate shared
# memory from shm pool": 500 to the re-INVITEs, lost transactions).
# TAKEOVER_KAM_ARGS: Kamailio's processes and allocator; by default the
# configuration's own 4 UDP workers (children = 4; this script gave it
# -n 2 before).  Each worker takes a request or an answer off the one
# socket and carries it to the end, the query to PostgreSQL of a request
# to a space included, which blocks it; Kamailio's operators give it at
# least a worker a core and more when the routing waits on a database.
# Once the takeover's seconds held only its own work, 2 or 4 made no
# difference measured here (docs/scaling.md, "Who else used the cores").
# shellcheck disable=SC2086
kamailio -f "$SRC/etc/kamailio-tvspace.cfg" -L "$KAM_MODULES" -D -E \
	${TAKEOVER_KAM_ARGS:--n 4} \
	-m "${TAKEOVER_KAM_SHM:-1024}" \
	-A "LISTEN=udp:127.0.0.1:$SIP" \
	-A "DBURL=\"tv=>postgres://postgres@127.0.0.1:$PGPORT/tvbench\"" \
	-A "NODES=\"$WORK/nodes.list\"" >"$WORK/kamailio.log" 2>&1 &
KAM_PID=$!
BENCH_PIDS+=($!)
sleep 3 # dispatcher's first OPTIONS round

# Hosts and guests dial in at RATE a second; each waits for the takeover's
# re-INVITE (the test scenarios wait 40 and 25 s) long enough for all of
# them to have started and the lease to have run out: copies of the
# scenarios with that wait.
RATE=${TAKEOVER_RATE:-200}
# A host resumed waits AFTER ms and then up to as long again as the
# hosts took to come in (uniformly, SIPp's pause) before its /switch and
# its hang-up 2 s later (the scenario's, which come at once): by default
# past the goal (the lease + 5 s after the kill).  They check that every
# space still works once it moved.  Sent at once, they are work of their
# own during the takeover (a MESSAGE and a BYE through Kamailio, each a
# query of its, the switch and the end of the space stored, a BYE to the
# guest): with the scenario's timing (TAKEOVER_AFTER=0) 1,162 of a
# survivor's 1,618 spaces of a 10,000-space run ended before its last
# member resumed, and its re-INVITEs went from 630 to 250-300 a second as
# the first hang-ups came.  All after the same wait, the 3,333 /switches
# of a takeover whose re-INVITEs took 2.5 s came at 1,300 a second, and
# 81 and 130 of them got Kamailio's 503 (the node's 200 later than 3 s):
# the host's call failed, its space stayed live.  So they are spread.
AFTER=${TAKEOVER_AFTER:-$(((LEASE * 2 + 10) * 1000))}
SPREAD=$((AFTER ? SPACES * 1000 / RATE : 0))
QUIET_MAX=60 # seconds the nodes get to be quiet before the kill
WAIT=$(((SPACES + SPACES * GUESTS) * 1000 / RATE + QUIET_MAX * 1000 +
	LEASE * 2000 + 40000))
sed -e "s/timeout=\"40000\"/timeout=\"$WAIT\"/" \
	-e "s|^  <label id=\"9\"/>|  <pause distribution=\"uniform\" min=\"$AFTER\" max=\"$((AFTER + SPREAD))\"/>\n&|" \
	"$SCEN/bench_cluster_host.xml" >"$WORK/bench_cluster_host.xml"
[ "$AFTER" = 0 ] || grep -q "<pause distribution=\"uniform\" min=\"$AFTER\"" \
	"$WORK/bench_cluster_host.xml" || {
	echo "bench_cluster_host.xml: no place for the hosts' wait" >&2
	exit 1
}
sed "s/timeout=\"25000\"/timeout=\"$((WAIT - 15000))\"/" \
	"$SCEN/bench_cluster_guest.xml" >"$WORK/bench_cluster_guest.xml"
# settle WHAT QUERY N SECONDS: until QUERY counts N, or has not grown for
# 15 s (the calls of a party that failed: its SIPp's errors in
# $WORK/NAME.errors), or SECONDS passed; prints the count.  The run goes on
# with what is in, and says what is not.
settle() {
	local until=$((SECONDS + $4)) n last=-1 since=$SECONDS
	while n=$(q "$2") && [ "$n" -lt "$3" ]; do
		[ "$n" = "$last" ] || { last=$n; since=$SECONDS; }
		[ $SECONDS -lt $until ] && [ $((SECONDS - since)) -lt 15 ] ||
			break
		sleep 0.5
	done
	[ "$n" -ge "$3" ] ||
		echo "$1: $n of $3 (SIPp's errors: $WORK/*.errors)" |
		tee -a "$WORK/short" >&2
	[ "$n" -gt 0 ] || { echo "$1: none" >&2; exit 1; }
	echo "$n"
}
# Every message is traced up to 1,000 spaces; past that only the errors
# (the trace of 10,000 spaces is gigabytes written while measuring).
TRACE=()
[ "$SPACES" -gt 1000 ] || TRACE=(-trace_msg)
party() { # NAME SCENARIO CSV PORT CALLS RATE
	sipp -sf "$WORK/$2.xml" -inf "$WORK/$3" -m "$5" -r "$6" -l "$5" \
		-nostdin -i 127.0.0.1 -p "$4" -d 2000 -key target share \
		-buff_size 4194304 \
		-timeout $((WAIT / 1000 + 120))s -timeout_error \
		-recv_timeout $((WAIT + 20000)) \
		-trace_err -error_file "$WORK/$1.errors" \
		"${TRACE[@]}" -message_file "$WORK/$1.msg" \
		"127.0.0.1:$SIP" >"$WORK/$1.out" 2>&1 &
	BENCH_PIDS+=($!)
	printf -v "P_$1" '%s' $!
}
{
	echo SEQUENTIAL
	for i in $(seq 1 "$SPACES"); do echo "h$i;40000"; done
} >"$WORK/hosts.csv"
party hosts bench_cluster_host hosts.csv 5185 "$SPACES" "$RATE"
open=$(settle "spaces open" "select count(*) from spaces where is_open" \
	"$SPACES" $((SPACES / RATE + 60)))
{
	echo SEQUENTIAL
	g=0
	for id in $(q "select id from spaces where is_open order by id"); do
		for _ in $(seq 1 "$GUESTS"); do
			g=$((g + 1))
			echo "g$g;40000;space-$id"
		done
	done
} >"$WORK/guests.csv"
party guests bench_cluster_guest guests.csv 5186 $((open * GUESTS)) "$RATE"
want=$(settle "members held" \
	"select count(*) from members where left_at is null and local_tag is not null" \
	$((open * (GUESTS + 1))) $((open * GUESTS / RATE + 60)))
t_in=$SECONDS

# metric NODE NAME: one sample of a node's /metrics.
metric() {
	python3 -c 'import sys, urllib.request
for line in urllib.request.urlopen("http://127.0.0.1:%d/metrics" % (9480 + int(sys.argv[1]))).read().decode().split("\n"):
    if line.startswith(sys.argv[2] + " "):
        print(line.split()[1])' "$1" "$2"
}
# Quiet: no node sheds load or has more than a few statements queued, all
# three leases are held, and nothing has moved; 3 s in a row.
quiet=0
until [ $quiet -ge 3 ]; do
	if grep -q " claimed$" "$WORK"/n[123].log; then
		echo "spaces moved before the kill (the nodes' logs: $WORK/n*.log):" >&2
		grep -h "lease\|overload" "$WORK"/n[123].log | tail -20 >&2
		exit 1
	fi
	busy=0
	for i in 1 2 3; do
		[ "$(metric $i tvspace_overloaded)" = 0 ] || busy=1
		[ "$(metric $i tvspace_db_queue_jobs)" -lt 10 ] || busy=1
	done
	[ "$(q "select count(*) from nodes where lease_until > now()")" = 3 ] ||
		busy=1
	if [ $busy = 0 ]; then quiet=$((quiet + 1)); else quiet=0; fi
	if [ $((SECONDS - t_in)) -ge $QUIET_MAX ]; then
		echo "the nodes were not quiet within $QUIET_MAX s of the last member's arrival" >&2
		exit 1
	fi
	sleep 1
done
shed=$(for i in 1 2 3; do printf 'n%d %s ' $i "$(metric $i tvspace_shed_total)"; done)
per_node=$(q "select string_agg(node_id || ' ' || n, ', ' order by node_id) from (select node_id, count(*) n from spaces group by 1) x")

VICTIM=n2
# BENCH_PERF=fp: the survivors' CPU from just before the kill, 20 s
# (perf record --call-graph; $WORK/n1.perf.data, n3.perf.data).
if [ -n "${BENCH_PERF:-}" ]; then
	for n in n1 n3; do
		perf record -q --call-graph "$BENCH_PERF" -F 499 -p "${PID[$n]}" \
			-o "$WORK/$n.perf.data" -- sleep 20 2>"$WORK/$n.perf.log" &
	done
	# and Kamailio's processes ($WORK/kamailio.perf.data)
	perf record -q -F 499 -p "$(pgrep -d, -f "kamailio -f $SRC/etc")" \
		-o "$WORK/kamailio.perf.data" -- sleep 20 \
		2>"$WORK/kamailio.perf.log" &
	sleep 0.5
fi
# CPU of each process from the kill until the last member resumed: who
# the takeover waits for.
ticks() { # PID...: user + system clock ticks of them all
	local t=0 p
	for p in "$@"; do
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo $t
}
# waited() PID...: nanoseconds they were runnable but waited for a CPU
# (/proc/PID/schedstat's second field): a process that answers late
# because the machine's cores were busy, not because of its own work.
waited() {
	local t=0 p
	for p in "$@"; do
		t=$((t + $(awk '{print $2}' "/proc/$p/schedstat" 2>/dev/null || echo 0)))
	done
	echo $t
}
mapfile -t KAM_ALL < <(echo "$KAM_PID"; pgrep -P "$KAM_PID" || true)
# the killed node's own ticks, which its reaping adds to this script's
victim_ticks=$(ticks "${PID[$VICTIM]}")
# PostgreSQL's processes (the nodes' writes of the takeover)
PG_MAIN=$(head -1 "$PGDIR/data/postmaster.pid" 2>/dev/null || true)
mapfile -t PG_ALL < <(pgrep -P "${PG_MAIN:-0}" || true)
# the machine's cores: busy and all clock ticks (/proc/stat)
machine() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat; }
# The survivors' "resumed" lines as they are logged (reading both logs
# whole, megabytes, 20 times a second would be work on the cores
# measured).
tail -n 0 -q -F "$WORK/n1.log" "$WORK/n3.log" 2>/dev/null |
	grep --line-buffered -E " resumed$" >"$WORK/resumed" &
TAIL_PID=$!
BENCH_PIDS+=("$TAIL_PID")
machine_before=$(machine)
# Every process of the machine (other trees' work too), each one's user +
# system ticks and those of its children that ended (the psql, grep and
# cat of this script's polling end up in its shell's): a snapshot at the
# kill and one once the last member resumed say who used the cores.
procs() { # FILE
	python3 - "$1" "$$" <<'PY'
import os, sys
with open(sys.argv[1], "w") as out:
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            s = open("/proc/%s/stat" % pid).read()
        except OSError:
            continue
        comm = s[s.index("(") + 1:s.rindex(")")]
        f = s[s.rindex(")") + 2:].split()
        # fields 14-17 of stat: utime stime cutime cstime; the children
        # only for this script (a backend that exits lands in
        # PostgreSQL's postmaster with all its life's work)
        n = 15 if pid == sys.argv[2] else 13
        out.write("%s %s %d\n" % (pid, comm.replace(" ", "_"),
                                   sum(int(x) for x in f[11:n])))
PY
}
# the machine's time by kind (/proc/stat: user nice system idle iowait irq
# softirq steal), for softirq's share
cpu_kinds() { awk '/^cpu / {print $2, $3, $4, $5, $6, $7, $8, $9}' /proc/stat; }
kinds_before=$(cpu_kinds)
procs "$WORK/procs.before"
# PostgreSQL's transactions and rows written meanwhile, and by table
pg_counts() { q "select xact_commit, tup_inserted, tup_updated, tup_deleted from pg_stat_database where datname = 'tvbench'"; }
pg_tables() { q "select relname || ' ' || n_tup_ins || ' ' || n_tup_upd || ' ' || n_tup_hot_upd || ' ' || n_tup_del from pg_stat_user_tables order by 1"; }
pgc_before=$(pg_counts)
pg_tables >"$WORK/tables.before"
[ -z "${TAKEOVER_PGSS:-}" ] || q "select pg_stat_statements_reset()" >/dev/null
declare -A PG_T0
for p in "${PG_ALL[@]}"; do PG_T0[$p]=$(ticks "$p"); done
cpu_before=("$(ticks "${PID[n1]}")" "$(ticks "${PID[n3]}")" \
	"$(ticks "${KAM_ALL[@]}")" "$(ticks "$P_hosts")" "$(ticks "$P_guests")")
wait_before=("$(waited "${PID[n1]}")" "$(waited "${PID[n3]}")" \
	"$(waited "${KAM_ALL[@]}")" "$(waited "$P_guests")")
# datagrams dropped for a full socket buffer (this network namespace's)
rcvbuf_errors() { awk '/^Udp: [0-9]/ {print $6}' /proc/net/snmp; }
drops_before=$(rcvbuf_errors)
# TAKEOVER_HOPS=1: every re-INVITE and its 200 timed per hop from the kill
# until the last member resumed (bench/takeover_hops.py): which of the
# survivors, Kamailio or SIPp the re-INVITEs wait for.
HOPS_PID=
if [ -n "${TAKEOVER_HOPS:-}" ]; then
	python3 bench/takeover_hops.py "$((SIP + 1)),$((SIP + 2)),$((SIP + 3))" \
		"$SIP" "$WORK/hops" &
	HOPS_PID=$!
	BENCH_PIDS+=("$HOPS_PID")
	sleep 0.5
fi
moved=$(q "select count(*) from spaces where node_id = '$VICTIM'")
moved_members=$(q "select count(*) from members m join spaces s on s.id = m.space_id where s.node_id = '$VICTIM' and m.left_at is null and m.local_tag is not null")
t_kill=$(date +%s.%N)
kill -KILL "${PID[$VICTIM]}"
# Until the last moved member resumed, as the survivors log it; nothing
# else runs here meanwhile (a psql polling the claims 20 times a second
# took a quarter of a core from the processes measured: the claims' times
# are read from the survivors' logs afterwards).
for _ in $(seq 1 $(((LEASE * 2 + 60) * 10))); do
	[ "$(wc -l <"$WORK/resumed")" -ge "$moved_members" ] && break
	sleep 0.1
done
t_res=$(date +%s.%N)
[ -z "$HOPS_PID" ] || { kill -INT "$HOPS_PID"; wait "$HOPS_PID" || true; }
cpu_after=("$(ticks "${PID[n1]}")" "$(ticks "${PID[n3]}")" \
	"$(ticks "${KAM_ALL[@]}")" "$(ticks "$P_hosts")" "$(ticks "$P_guests")")
# only the processes alive at both ends (a backend of the killed node's
# connections is gone, its ticks with it)
pg_before=0 pg_after=0
for p in "${PG_ALL[@]}"; do
	[ -e "/proc/$p/stat" ] || continue
	pg_before=$((pg_before + PG_T0[$p]))
	pg_after=$((pg_after + $(ticks "$p")))
done
machine_after=$(machine)
procs "$WORK/procs.after"
kinds_after=$(cpu_kinds)
pgc_after=$(pg_counts)
pg_tables >"$WORK/tables.after"
[ -z "${TAKEOVER_PGSS:-}" ] ||
	q "select calls, round(total_exec_time), rows, left(regexp_replace(query, '\s+', ' ', 'g'), 110) from pg_stat_statements order by total_exec_time desc limit 15" >"$WORK/statements"
busy=$(python3 -c 'import sys
b0, t0, b1, t1 = (int(x) for x in sys.argv[1:])
print("%.0f %%" % (100.0 * (b1 - b0) / max(1, t1 - t0)))' $machine_before $machine_after)
pg_cpu=$(python3 -c 'import sys
print("%.0f %%" % (100.0 * (int(sys.argv[2]) - int(sys.argv[1])) / int(sys.argv[3]) / (float(sys.argv[5]) - float(sys.argv[4]))))' \
	"$pg_before" "$pg_after" "$(getconf CLK_TCK)" "$t_kill" "$t_res")
wait_after=("$(waited "${PID[n1]}")" "$(waited "${PID[n3]}")" \
	"$(waited "${KAM_ALL[@]}")" "$(waited "$P_guests")")
runq=$(python3 - "$t_kill" "$t_res" "${wait_before[@]}" "${wait_after[@]}" <<'PY'
import sys
t0, t1 = float(sys.argv[1]), float(sys.argv[2])
v = [int(x) for x in sys.argv[3:]]
names = ("n1", "n3", "kamailio", "SIPp guests")
print(", ".join("%s %.2f s" % (n, (v[i + 4] - v[i]) / 1e9)
                for i, n in enumerate(names)))
PY
)
cpu=$(python3 - "$t_kill" "$t_res" "$(getconf CLK_TCK)" \
	"${cpu_before[@]}" "${cpu_after[@]}" <<'PY'
import sys
t0, t1, hz = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
v = [int(x) for x in sys.argv[4:]]
names = ("n1", "n3", "kamailio", "SIPp hosts", "SIPp guests")
print(", ".join("%s %.0f %%" % (n, 100.0 * (v[i + 5] - v[i]) / hz / (t1 - t0))
                for i, n in enumerate(names)))
PY
)
drops=$(($(rcvbuf_errors) - drops_before))
udp_drops=$(python3 -c 'import sys
for line in list(open("/proc/net/udp"))[1:]:
    f = line.split()
    if int(f[-1]):
        print("port %d %s," % (int(f[1].split(":")[1], 16), f[-1]), end=" ")')
unclaimed=$(q "select count(*) from spaces where state = 'live' and node_id = '$VICTIM'")
[ "$unclaimed" = 0 ] || echo "$VICTIM's spaces not all claimed: $unclaimed live" >&2
split=$(q "select string_agg(node_id || ' ' || n, ', ' order by node_id) from (select node_id, count(*) n from spaces group by 1) x")

wait "$P_hosts" && hosts_ok=yes || hosts_ok=no
wait "$P_guests" && guests_ok=yes || guests_ok=no
for _ in $(seq 1 150); do
	[ "$(q "select count(*) from spaces where state = 'live'")" = 0 ] && break
	sleep 0.2
done
ended=$(q "select count(*) from spaces where end_reason = 'space ended by host'")
left=$(q "select count(*) from members where left_at is not null")

python3 - "$t_kill" "$WORK" "$LEASE" "$moved_members" <<PY
import datetime, glob, re, sys
kill = float(sys.argv[1])
def stamps(pattern):
    out = []
    for f in ("n1.log", "n3.log"):
        for line in open(sys.argv[2] + "/" + f):
            if re.search(pattern, line):
                t = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S.%f")
                out.append(t.timestamp())
    return out
took = stamps("took over")
claims = stamps(" of node $VICTIM claimed$")
claim = max(claims) if claims else float("nan")
res = stamps(" resumed$")
print("| nodes | spaces | members | lease | moved | claimed after kill | loaded, re-INVITEs sent | last member resumed |")
print("|---|---|---|---|---|---|---|---|")
print("| 3 ($per_node) | $SPACES | $want | ${LEASE} s | $moved spaces, $moved_members members -> $split | %.2f s | %.2f s | %.2f s (%d of $moved_members) |" % (
    claim - kill, max(took) - kill if took else float("nan"),
    max(res) - kill if res else float("nan"), len(res)))
lease, want = float(sys.argv[3]), int(sys.argv[4])
met = bool(res) and len(res) >= want and max(res) - kill <= lease + 5
print("goal (every moved member re-INVITEd within the lease + 5 s, %.0f s): %s" % (
    lease + 5, "met" if met else "NOT met"))
PY
echo "CPU (of one core) from the kill until the last member resumed: $cpu; UDP datagrams dropped for full buffers meanwhile: $drops"
echo "PostgreSQL (all its processes) $pg_cpu of a core; the machine's $(nproc) cores busy $busy (everyone's work) from the kill until the last member resumed"
python3 - "$WORK/procs.before" "$WORK/procs.after" "$t_kill" "$t_res" \
	"$(getconf CLK_TCK)" "$$" "$kinds_before" "$kinds_after" \
	"$victim_ticks" <<'PY'
import collections, sys
def load(path):
    d = {}
    for line in open(path):
        pid, comm, t = line.split()
        d[pid] = (comm, int(t))
    return d
b, a = load(sys.argv[1]), load(sys.argv[2])
secs, hz, me = float(sys.argv[4]) - float(sys.argv[3]), int(sys.argv[5]), sys.argv[6]
by = collections.Counter()
for pid, (comm, t) in a.items():
    if pid in b:
        name = "this script (its polling)" if pid == me else comm
        by[name] += t - b[pid][1] - (int(sys.argv[9]) if pid == me else 0)
kb = [int(x) for x in sys.argv[7].split()]
ka = [int(x) for x in sys.argv[8].split()]
d = [y - x for x, y in zip(kb, ka)]
total = sum(d)
busy = total - d[3] - d[4]
names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
print("the machine's cores from the kill until the last member resumed, "
      "in cores: " + ", ".join("%s %.2f" % (n, v / hz / secs)
                               for n, v in zip(names, d)))
print("who used them (cores; processes alive at both ends, by name): " +
      ", ".join("%s %.2f" % (n, t / hz / secs) for n, t in by.most_common(12)) +
      "; all of them %.2f, the machine busy %.2f" % (sum(by.values()) / hz / secs, busy / hz / secs))
PY
echo "PostgreSQL's transactions committed, rows inserted, updated, deleted from the kill until the last member resumed: $(python3 -c 'import sys
b = [int(x) for x in sys.argv[1].split("|")]; a = [int(x) for x in sys.argv[2].split("|")]
print(" ".join(str(y - x) for x, y in zip(b, a)))' "$pgc_before" "$pgc_after")"
echo "PostgreSQL's rows by table from the kill until the last member resumed (inserted, updated, of them HOT, deleted): $(join "$WORK/tables.before" "$WORK/tables.after" | awk '$6 - $2 + $7 - $3 + $9 - $5 > 0 {printf "%s %d %d %d %d, ", $1, $6 - $2, $7 - $3, $8 - $4, $9 - $5}')"
[ ! -s "$WORK/statements" ] || { echo "PostgreSQL's statements meanwhile (calls, ms, rows, text; pg_stat_statements):"; cat "$WORK/statements"; }
echo "waited for a CPU while runnable, from the kill until the last member resumed (all of a group's processes): $runq"
echo "datagrams dropped by each socket since it opened (/proc/net/udp): $udp_drops"
echo "new dialogs the nodes refused for overload before the kill (503, tried again by the party): $shed"
[ ! -s "$WORK/hops" ] || { echo "re-INVITEs hop by hop:"; cat "$WORK/hops"; }
[ ! -s "$WORK/short" ] || echo "not in before the kill: $(paste -sd ';' "$WORK/short")"
echo "afterwards: hosts' SIPp passed: $hosts_ok, guests': $guests_ok; spaces ended by their hosts: $ended of $open; members left: $left of $want; still live: $(q "select count(*) from spaces where state = 'live'")"
