# Helpers of the tests with several tvspaced nodes behind Kamailio
# (docs/scaling.md), sourced after e2e.sh.  Everything runs on loopback:
# Kamailio on SIP_PORT, node N (1, 2, ...) on SIP_PORT+N with relay ports
# 20000+N*1000..., a PostgreSQL cluster of the test's own that listens on
# TCP (Kamailio's db_postgres cannot use a socket folder).  Every process
# is stopped by PID on exit.
command -v kamailio >/dev/null || die "kamailio is not installed"
KAM_MODULES=$(dirname "$(dpkg -L kamailio | grep '/tm\.so$')")
[ -f "$KAM_MODULES/db_postgres.so" ] ||
	die "kamailio-postgres-modules is not installed"

PGPORT_NUM=54339
PGCLUSTER=$E2E_DIR/pg
PGHOST_DIR=$PGCLUSTER/run
CONN="host=$PGHOST_DIR port=$PGPORT_NUM dbname=$DBNAME user=postgres"
LEASE=${LEASE:-3}

declare -A NODE_PID NODE_PORT
NODES=()
KAM_PID=
cluster_cleanup() {
	local n
	for n in "${NODES[@]}"; do
		[ -z "${NODE_PID[$n]:-}" ] || kill -KILL "${NODE_PID[$n]}" 2>/dev/null || true
		kill -CONT "${NODE_PID[$n]:-0}" 2>/dev/null || true
	done
	[ -z "$KAM_PID" ] || kill "$KAM_PID" 2>/dev/null || true
	e2e_cleanup
	"$SRC/scripts/pgctl.sh" stop "$PGCLUSTER" $PGPORT_NUM
}
trap cluster_cleanup EXIT

# The database, with hosts h1..h6 and guests g1..g6 on premium services.
cluster_db() {
	PGCTL_TCP=1 "$SRC/scripts/pgctl.sh" start "$PGCLUSTER" $PGPORT_NUM
	db_fresh
	sql "INSERT INTO users (user_id)
	     SELECT 'h' || i FROM generate_series(1, 6) i UNION ALL
	     SELECT 'g' || i FROM generate_series(1, 6) i;
	     INSERT INTO services (service_default_id, user_id, level,
				   default_channel, is_default)
	     SELECT 'svc-' || user_id, user_id, 3, 'music', true FROM users
	      WHERE user_id ~ '^[hg][0-9]$'"
}

# nodes_start COUNT: nodes n1..nCOUNT, each on its own lease, until ready
# (NODE_CONF: more lines for their configuration).
nodes_start() {
	local i n
	for i in $(seq 1 "$1"); do
		n=n$i
		NODES+=("$n")
		NODE_PORT[$n]=$((SIP_PORT + i))
		cat >"$E2E_DIR/$n.conf" <<CONF
listen = sip:127.0.0.1:${NODE_PORT[$n]}
domain = tvspace.test
lineup = $SRC/etc/demo-lineup.m3u
trust_loopback_from = yes
node_id = $n
lease_time = $LEASE
rtp_port_min = $((20000 + i * 1000))
rtp_port_max = $((20999 + i * 1000))
member_notices = ${MEMBER_NOTICES:-no}
log_level = debug
${NODE_CONF:-}
CONF
		"$TVSPACED" --config "$E2E_DIR/$n.conf" --db "$CONN" \
			>"$E2E_DIR/$n.log" 2>&1 &
		NODE_PID[$n]=$!
	done
	for n in "${NODES[@]}"; do
		for i in $(seq 1 100); do
			grep -q "ready:" "$E2E_DIR/$n.log" && break
			kill -0 "${NODE_PID[$n]}" 2>/dev/null ||
				die "node $n exited"
			sleep 0.1
		done
		grep -q "ready:" "$E2E_DIR/$n.log" ||
			die "node $n did not become ready"
	done
}

# Kamailio with etc/kamailio-tvspace.cfg in front of the nodes.
kamailio_start() {
	local n
	for n in "${NODES[@]}"; do
		echo "1 sip:127.0.0.1:${NODE_PORT[$n]}"
	done >"$E2E_DIR/nodes.list"
	kamailio -f "$SRC/etc/kamailio-tvspace.cfg" -L "$KAM_MODULES" \
		-D -E -n 2 \
		-A "LISTEN=udp:127.0.0.1:$SIP_PORT" \
		-A "DBURL=\"tv=>postgres://postgres@127.0.0.1:$PGPORT_NUM/$DBNAME\"" \
		-A "NODES=\"$E2E_DIR/nodes.list\"" -P "$E2E_DIR/kamailio.pid" \
		>"$E2E_DIR/kamailio.log" 2>&1 &
	KAM_PID=$!
	wait_udp "$SIP_PORT"
	sleep 2 # dispatcher's first OPTIONS round: every node answers
}

# sipp_party NAME SCENARIO CSV LOCAL_PORT CALLS [HOLD_MS] [SIPP ARGS...]:
# CALLS parties read from $E2E_DIR/CSV, through Kamailio, in the
# background; its PID in SIPP_<NAME>.
sipp_party() {
	local name=$1 scen=$2 csv=$3 port=$4 calls=$5 hold=${6:-1000}
	shift 6 || shift $#
	sipp -sf "$SCEN/$scen.xml" -inf "$E2E_DIR/$csv" -m "$calls" \
		-r 10 -l "$calls" -nostdin -i 127.0.0.1 -p "$port" -d "$hold" \
		-timeout 60s -timeout_error -recv_timeout 40000 \
		-trace_err -error_file "$E2E_DIR/$name.errors" \
		-trace_msg -message_file "$E2E_DIR/$name.msg" "$@" \
		"127.0.0.1:$SIP_PORT" >"$E2E_DIR/$name.out" 2>&1 &
	local pid=$!
	SIPP_PIDS+=("$pid")
	printf -v "SIPP_$name" '%s' "$pid"
}

# one_space_on_two RTP_PORT HOLD_MS: two nodes behind Kamailio that book
# played time every second, and h1 (its RTP to RTP_PORT) holding a live,
# open relay space on one of them for HOLD_MS.
one_space_on_two() {
	cluster_db
	NODE_CONF="book_interval = 1" nodes_start 2
	kamailio_start
	printf 'SEQUENTIAL\nh1;%s\n' "$1" >"$E2E_DIR/hosts.csv"
	sipp_party host cluster_host hosts.csv 5191 1 "$2" -key target share
	wait_for "select count(*) from spaces where state = 'live' and is_open" 1
}

# nodes_stop: a clean stop of every node still running, checked.
nodes_stop() {
	local n
	for n in "${NODES[@]}"; do
		[ -n "${NODE_PID[$n]}" ] || continue
		kill -TERM "${NODE_PID[$n]}"
		wait "${NODE_PID[$n]}" || fail "node $n exited with status $?"
		NODE_PID[$n]=
	done
}
