#!/usr/bin/env bash
# The remote control survives restarts: a relay host whose offer has PCMU,
# telephone-event 101 and ptime 20 starts a space on music.  tvspaced is
# restarted by SIGTERM, then killed with SIGKILL and started again; each
# time its re-INVITE must re-offer what the session had (the same o=
# session id with its version one up, PCMU and telephone-event 101,
# sendrecv, ptime 20, the relay leg's port), and keys pressed on the RTP
# (RFC 4733) must still switch the space: 5# to kids (660 Hz) after the
# first restart, 4# back to music (440 Hz) after the second.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start
export SIPP_TIMEOUT=120 SIPP_RECV_TIMEOUT=110000

MEDIA_PORT=41000 sipp_start host host_relay_resume alice share 5091 8000
wait_for "select channel || ':' || (select delivery from members) from spaces where state = 'live'" \
	"music:relay"
wait_for "select count(*) from members where local_tag is not null and local_sdp like '%telephone-event%'" 1

# resumed N: the re-INVITE of start N took the dialog up; the leg's port
# it offered is written to $E2E_DIR/leg.port.
resumed() {
	local n=$1 i port
	for i in $(seq 1 100); do
		[ "$(grep -c "space-1 alice resumed" "$E2E_DIR/tvspaced.log" || true)" -ge "$n" ] && break
		sleep 0.1
	done
	grep -q "space-1 alice resumed" "$E2E_DIR/tvspaced.log" ||
		die "alice's dialog was not taken up"
	port=$(python3 - "$E2E_DIR/host.msg" "$n" <<'PY'
import re, sys
msgs = open(sys.argv[1], errors="replace").read().replace("\r\n", "\n")
invites = re.findall(r"^INVITE sip:[^\n]*\n(?:.*\n)*?m=audio (\d+) ", msgs, re.M)
print(invites[int(sys.argv[2])] if len(invites) > int(sys.argv[2]) else "")
PY
)
	[ -n "$port" ] || die "no re-INVITE $n in the host's trace"
	echo "$port" >"$E2E_DIR/leg.port"
	log "re-INVITE $n: the relay leg is at port $port"
}

# keys KEYS CHANNEL TONE_BEFORE TONE_AFTER: press KEYS on the member's RTP,
# the space must move to CHANNEL and what it hears change tone.
keys() {
	python3 "$SRC/test/lib/rtp_recv.py" 41000 4 "$1" 1.5 \
		"$E2E_DIR/leg.port" >"$E2E_DIR/keys-$2.rtp"
	wait_for "select channel from spaces" "$2"
	log "ok: keys $1 switched the space to $2"
	check_json "keys-$2.rtp" "len(r['tones']) >= 2 and abs(r['tones'][0] - $3) < 30 and abs(r['tones'][-1] - $4) < 30"
}

tv_stop
expect_sql "select state from spaces" live
tv_start
resumed 1
keys "5#" kids 440 660

tv_kill
log "tvspaced killed with SIGKILL"
tv_start
resumed 2
keys "4#" music 660 440

sipp_wait host
wait_for "select state from spaces" ended

# What each SDP of the dialog said, in order: the 200 to alice's INVITE,
# then the two re-INVITEs.
python3 - "$E2E_DIR/host.msg" <<'PY' || fail "the re-INVITEs did not re-offer the session"
import re, sys
text = open(sys.argv[1], errors="replace").read().replace("\r\n", "\n")
bodies = re.findall(r"(v=0\n(?:[a-z]=[^\n]*\n)+)", text)
ours = [b for b in bodies if "o=tvspace" in b]
print("\n--\n".join(ours))
o = [re.search(r"o=tvspace (\d+) (\d+)", b).groups() for b in ours]
ports = [re.search(r"m=audio (\d+)", b).group(1) for b in ours]
ok = len(ours) >= 3
ok = ok and len({i for i, _ in o}) == 1
ok = ok and [int(v) for _, v in o[:3]] == [int(o[0][1]) + k for k in range(3)]
for b in ours[:3]:
    ok = ok and "m=audio %s RTP/AVP 0 101" % re.search(r"m=audio (\d+)", b).group(1) in b
    ok = ok and "a=rtpmap:101 telephone-event/8000" in b
    # sendrecv: no direction attribute (RFC 4566 §6)
    ok = ok and "a=ptime:20" in b and not re.search(
        r"a=(sendonly|recvonly|inactive)", b)
print("o=", o, "ports", ports)
sys.exit(0 if ok else 1)
PY
e2e_finish
