# Helpers for the tests of real softphones (linphonec, baresip), sourced
# after e2e.sh: parties driven line by line (test/lib/hostctl.py), linphonec
# driven through a FIFO on its standard input, and an RTP counter on a
# softphone's port (test/lib/rtp_count.py).  Every process is started in
# the background with its PID in SIPP_PIDS, so e2e.sh's exit trap stops it.

# now: the time as seconds since the epoch, to the millisecond.
now() { date +%s.%3N; }

# log_time LINE: the time a line of tvspaced's log was written.
log_time() { date -d "$(cut -c1-23 <<<"$1")" +%s.%3N; }

# elapsed T0 [T1]: seconds from T0 to T1 (now), two decimals.
elapsed() { python3 -c "print('%.2f' % (${2:-$(now)} - $1))"; }

# party_start NAME USER: a party of hostctl.py as USER; `party NAME CMD`
# gives it a command, its events go to $E2E_DIR/NAME.out.
party_start() {
	local name=$1 user=$2 fd
	mkfifo "$E2E_DIR/$name.in"
	PYTHONPATH="$SRC/test/lib" python3 -u "$SRC/test/lib/hostctl.py" \
		"$SIP_PORT" "$user" <"$E2E_DIR/$name.in" \
		>"$E2E_DIR/$name.out" 2>&1 &
	SIPP_PIDS+=("$!")
	printf -v "PARTY_PID_$name" '%s' "$!"
	exec {fd}>"$E2E_DIR/$name.in"
	printf -v "PARTY_FD_$name" '%s' "$fd"
}

party() {
	local name=$1 fd="PARTY_FD_$1"
	shift
	echo "$*" >&"${!fd}"
}

# out_wait FILE REGEXP [SECONDS, 15] [COUNT, 1]: until FILE has COUNT lines
# matching REGEXP (grep -E).
out_wait() {
	local file=$1 re=$2 secs=${3:-15} count=${4:-1}
	local n
	for _ in $(seq 1 $((secs * 10))); do
		n=$(grep -aEc -- "$re" "$file" 2>/dev/null || true)
		[ "${n:-0}" -ge "$count" ] && return 0
		sleep 0.1
	done
	die "waited ${secs} s for '$re' in $(basename "$file")"
}

# party_do NAME CMD...: the command, and its answer, which must be a 2xx.
party_do() {
	local name=$1 n
	shift
	n=$(grep -c "done $* " "$E2E_DIR/$name.out" 2>/dev/null || true)
	party "$name" "$@"
	out_wait "$E2E_DIR/$name.out" "done $* " 40 $((n + 1))
	if grep "done $* " "$E2E_DIR/$name.out" | tail -n 1 |
		grep -Eq " 2[0-9][0-9]$"; then
		log "ok: $name: $*"
	else
		fail "$name: $*: $(grep "done $* " "$E2E_DIR/$name.out" | tail -n 1)"
	fi
}

party_stop() {
	local name=$1 fd="PARTY_FD_$1" pid="PARTY_PID_$1"
	party "$name" quit
	eval "exec ${!fd}>&-"
	wait "${!pid}" 2>/dev/null || true
}

# linphone_start USER [PORT]: linphonec (Debian's linphone-cli) as USER,
# SIP on PORT (5098), audio RTP on 7078, recording what it hears to
# $LP/heard.wav (its "files" sound card: this machine has none); commands
# with `lp CMD`, its output in $LP/out, its SIP trace in $LP/linphonec.log.
# ~/.local/share/linphone must exist or linphonec never opens its SIP
# socket (docs/clients.md).
linphone_start() {
	local user=$1 port=${2:-5098}
	command -v linphonec >/dev/null || {
		log "SKIP: linphonec (linphone-cli) is not installed"
		exit 77
	}
	LP=$E2E_DIR/linphone
	LP_RTP=7078
	mkdir -p "$LP/.local/share/linphone"
	# IPv4 only: on a machine whose interface has a global IPv6 address
	# linphonec offers it (c=IN IP6), which the server's IPv4 relay
	# cannot send to; linphone turns IPv6 on at its first start unless
	# its settings say that migration was done.
	cat >"$LP/rc" <<RC
[sip]
sip_port=$port
use_ipv6=0
ipv6_migration_done=1
prefer_ipv6=0
sip_tcp_port=-1
sip_tls_port=-1
contact="$user" <sip:$user@127.0.0.1>
default_proxy=0
[proxy_0]
reg_proxy=<sip:127.0.0.1:$SIP_PORT;transport=udp>
reg_identity="$user" <sip:$user@127.0.0.1>
reg_sendregister=0
publish=0
[rtp]
audio_rtp_port=$LP_RTP
[sound]
echocancellation=0
[video]
enabled=0
RC
	mkfifo "$LP/in"
	(cd "$LP" && HOME=$LP exec timeout -k 5 "${LP_TIMEOUT:-90}" \
		linphonec -c "$LP/rc" -d 6 -l "$LP/linphonec.log" \
		<"$LP/in" >"$LP/out" 2>&1) &
	LP_PID=$!
	SIPP_PIDS+=("$LP_PID")
	exec {LP_FD}>"$LP/in"
	lp "soundcard use files"
	lp "record $LP/heard.wav"
	out_wait "$LP/linphonec.log" "Creating listening point .*:$port;transport=UDP" 10
}

lp() { echo "$*" >&"$LP_FD"; }

linphone_stop() {
	lp quit
	exec {LP_FD}>&-
	wait "$LP_PID" 2>/dev/null || true
}

# rtp_count_start PORT: count the RTP reaching PORT; figures with rtp.
rtp_count_start() {
	python3 "$SRC/test/lib/rtp_count.py" "$1" "$E2E_DIR/rtp.json" \
		2>"$E2E_DIR/rtp_count.err" &
	RTP_PID=$!
	SIPP_PIDS+=("$RTP_PID")
	for _ in $(seq 1 30); do
		[ -f "$E2E_DIR/rtp.json" ] && return 0
		kill -0 "$RTP_PID" 2>/dev/null || break
		sleep 0.1
	done
	local rc=0
	wait "$RTP_PID" 2>/dev/null || rc=$?
	if [ "$rc" -eq 77 ]; then
		log "SKIP: $(cat "$E2E_DIR/rtp_count.err")"
		exit 77
	fi
	die "the RTP counter did not start: $(cat "$E2E_DIR/rtp_count.err")"
}

rtp_count_stop() {
	kill -TERM "$RTP_PID" 2>/dev/null || true
	wait "$RTP_PID" 2>/dev/null || true
}

# rtp total: packets so far; rtp since T: packets of the flows (source,
# SSRC) that began after T; rtp first T: when the first of them began;
# rtp last T: the last packet of the flows that began before T; rtp flows:
# one line per flow.
rtp() {
	python3 - "$E2E_DIR/rtp.json" "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
what = sys.argv[2]
t = float(sys.argv[3]) if len(sys.argv) > 3 else 0
new = [f for f in r["flows"] if f["first"] > t]
if what == "total":
    print(r["total"])
elif what == "since":
    print(sum(f["n"] for f in new))
elif what == "first":
    print(min(f["first"] for f in new) if new else "")
elif what == "last":
    print(max(f["last"] for f in r["flows"] if f["first"] <= t))
else:
    for f in r["flows"]:
        print("%s -> %s ssrc %08x pt %s: %d packets, %.2f s" % (
            f["src"], f["dst"], f["ssrc"], f["pts"], f["n"],
            f["last"] - f["first"]))
PY
}

# rtp_grows SECONDS: the count must grow by at least 80 % of 50 packets a
# second over SECONDS; prints the growth.
rtp_grows() {
	local a b
	a=$(rtp total)
	sleep "$1"
	b=$(rtp total)
	echo $((b - a))
	[ $((b - a)) -ge $(($1 * 40)) ]
}
