# End-to-end test helpers: a private database, tvspaced on loopback, SIPp
# parties.  Sourced by test/e2e/*.sh, which CTest runs with TVSPACED,
# TVSPACE_TEST_DB (conninfo of the private cluster), TVSPACE_SOURCE_DIR and
# TVSPACE_WORK set.  Every process started here is stopped by PID on exit.
set -euo pipefail

: "${TVSPACED:?path of the tvspaced binary}"
: "${TVSPACE_TEST_DB:?conninfo of the test cluster}"
: "${TVSPACE_SOURCE_DIR:?source tree}"
: "${TVSPACE_WORK:?scratch folder}"

E2E_NAME=$(basename "$0" .sh)
E2E_DIR=$TVSPACE_WORK/$E2E_NAME
SRC=$TVSPACE_SOURCE_DIR
SCEN=$SRC/test/sipp
SIP_PORT=${SIP_PORT:-5070}
ADMISSION_TIMEOUT=${ADMISSION_TIMEOUT:-60}
rm -rf "$E2E_DIR"
mkdir -p "$E2E_DIR"

# host= and port= of the cluster, from the conninfo.
PGHOST_DIR=$(sed -n 's/.*host=\([^ ]*\).*/\1/p' <<<"$TVSPACE_TEST_DB")
PGPORT_NUM=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$TVSPACE_TEST_DB")
PGCLUSTER=$(dirname "$PGHOST_DIR")
DBNAME="tv_${E2E_NAME//-/_}"
CONN="host=$PGHOST_DIR port=$PGPORT_NUM dbname=$DBNAME user=postgres"

TV_PID=
SIPP_PIDS=()
FAILED=0

e2e_cleanup() {
	local pid
	for pid in "${SIPP_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	if [ -n "$TV_PID" ]; then
		kill -TERM "$TV_PID" 2>/dev/null || true
		wait "$TV_PID" 2>/dev/null || true
	fi
}
trap e2e_cleanup EXIT

log() { printf '%s: %s\n' "$E2E_NAME" "$*"; }
fail() {
	log "FAIL: $*"
	FAILED=1
}
die() {
	log "FAIL: $*"
	echo "--- tvspaced log (last 60 lines)"
	tail -n 60 "$E2E_DIR/tvspaced.log" 2>/dev/null || true
	exit 1
}

sql() { psql "$CONN" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

# A fresh database with the schema and the demo services.
db_fresh() {
	"$SRC/scripts/pgctl.sh" createdb "$PGCLUSTER" "$PGPORT_NUM" "$DBNAME"
	"$TVSPACED" --db "$CONN" --migrate >"$E2E_DIR/migrate.log" 2>&1 ||
		die "migrations failed: $(cat "$E2E_DIR/migrate.log")"
	psql "$CONN" -XAtq -v ON_ERROR_STOP=1 -f "$SRC/db/demo.sql" \
		>/dev/null || die "cannot load db/demo.sql"
}

tv_config() {
	cat >"$E2E_DIR/tvspace.conf" <<CONF
listen = sip:127.0.0.1:$SIP_PORT
domain = tvspace.test
lineup = $SRC/etc/demo-lineup.m3u
trust_loopback_from = yes
admission_timeout = $ADMISSION_TIMEOUT
member_notices = ${MEMBER_NOTICES:-no}
log_level = debug
CONF
}

# tv_config_digest: the configuration without the development mode: the
# From of loopback requests is not believed (clients authenticate by
# digest) and 127.0.0.2 is the trusted peer whose P-Asserted-Identity is.
tv_config_digest() {
	tv_config
	sed -i 's/^trust_loopback_from = yes/trust_loopback_from = no/' \
		"$E2E_DIR/tvspace.conf"
	echo "trusted_peers = 127.0.0.2" >>"$E2E_DIR/tvspace.conf"
}

# Start tvspaced and wait until it serves.
tv_start() {
	local before i
	[ -f "$E2E_DIR/tvspace.conf" ] || tv_config
	touch "$E2E_DIR/tvspaced.log"
	before=$(grep -c "ready:" "$E2E_DIR/tvspaced.log" || true)
	"$TVSPACED" --config "$E2E_DIR/tvspace.conf" --db "$CONN" \
		>>"$E2E_DIR/tvspaced.log" 2>&1 &
	TV_PID=$!
	for i in $(seq 1 100); do
		if [ "$(grep -c "ready:" "$E2E_DIR/tvspaced.log" || true)" -gt \
			"$before" ]; then
			return 0
		fi
		kill -0 "$TV_PID" 2>/dev/null || die "tvspaced exited"
		sleep 0.1
	done
	die "tvspaced did not become ready"
}

tv_stop() {
	kill -TERM "$TV_PID"
	wait "$TV_PID" || die "tvspaced exited with status $?"
	TV_PID=
}

tv_kill() {
	kill -KILL "$TV_PID"
	wait "$TV_PID" 2>/dev/null || true
	TV_PID=
}

# sipp_start NAME SCENARIO USER TARGET LOCAL_PORT [HOLD_MS]: one party in
# the background; its PID in the variable SIPP_<NAME>.
sipp_start() {
	local name=$1 scen=$2 user=$3 target=$4 port=$5 hold=${6:-500}
	sipp -sf "$SCEN/$scen.xml" -m 1 -nostdin \
		-i 127.0.0.1 -p "$port" \
		-key user "$user" -key target "$target" -d "$hold" \
		-key rtp_port "${MEDIA_PORT:-40000}" \
		-timeout "${SIPP_TIMEOUT:-40}s" -timeout_error \
		-recv_timeout "${SIPP_RECV_TIMEOUT:-35000}" \
		-trace_err -error_file "$E2E_DIR/$name.errors" \
		-trace_msg -message_file "$E2E_DIR/$name.msg" \
		"127.0.0.1:$SIP_PORT" >"$E2E_DIR/$name.out" 2>&1 &
	local pid=$!
	SIPP_PIDS+=("$pid")
	printf -v "SIPP_$name" '%s' "$pid"
}

# sipp_wait NAME: the party's scenario must have passed.
sipp_wait() {
	local name=$1 var="SIPP_$1" rc=0
	wait "${!var}" || rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "$name: sipp exit status $rc"
		tail -n 30 "$E2E_DIR/$name.errors" 2>/dev/null || true
		return 1
	fi
	log "ok: $name"
}

# sipp_run NAME SCENARIO USER TARGET LOCAL_PORT [HOLD]: run and wait.
sipp_run() {
	sipp_start "$@"
	sipp_wait "$1"
}

# baresip_setup USER: a configuration folder for baresip as USER in $BS
# (test/data/baresip: SIP on port 5096, media on loopback, what it hears
# recorded there).
baresip_setup() {
	command -v baresip >/dev/null || die "baresip is not installed"
	BS=$E2E_DIR/baresip
	mkdir -p "$BS"
	sed -e "s|@SIP_PORT@|5096|" -e "s|@DIR@|$BS|" \
		"$SRC/test/data/baresip/config" >"$BS/config"
	sed "s|sip:bob@|sip:$1@|" "$SRC/test/data/baresip/accounts" \
		>"$BS/accounts"
	touch "$BS/contacts"
}

# check_json FILE CONDITION: the JSON a receiver wrote to $E2E_DIR/FILE
# (printed) must make the Python CONDITION on r true.
check_json() {
	python3 - "$E2E_DIR/$1" "$2" <<'PY' || FAILED=1
import json, sys
r = json.load(open(sys.argv[1]))
print(sys.argv[1].rsplit("/", 1)[1], r)
sys.exit(0 if eval("(" + sys.argv[2] + ")", {"r": r}) else 1)
PY
}

# wait_udp PORT...: until something listens on each UDP PORT (a receiver
# must be bound before the first packet is sent to it).
wait_udp() {
	local port i
	for port in "$@"; do
		for i in $(seq 1 50); do
			ss -lun | grep -q ":$port " && break
			sleep 0.1
		done
	done
}

# wait_for SQL EXPECTED: poll the database until the query gives EXPECTED.
wait_for() { # QUERY WANT [SECONDS, 10]
	local q=$1 want=$2 secs=${3:-10} got i
	for i in $(seq 1 $((secs * 10))); do
		got=$(sql "$q")
		[ "$got" = "$want" ] && return 0
		sleep 0.1
	done
	die "waited for [$q] = [$want], got [$got]"
}

expect_sql() {
	local q=$1 want=$2 got
	got=$(sql "$q")
	if [ "$got" = "$want" ]; then
		log "ok: $q = $want"
	else
		fail "$q: want [$want], got [$got]"
	fi
}

e2e_finish() {
	# A clean stop, checked: under ASan a leak or a crash at shutdown
	# fails the test here.
	[ -z "$TV_PID" ] || tv_stop
	if [ "$FAILED" -ne 0 ]; then
		echo "--- tvspaced log (last 80 lines)"
		tail -n 80 "$E2E_DIR/tvspaced.log" || true
		exit 1
	fi
	log "passed"
}
