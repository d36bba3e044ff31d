#!/usr/bin/env bash
# linphone's command-line client (Debian's linphone-cli, linphonec) as a
# guest: it dials space-1 and rings while the host (alice, a party of
# test/lib/hostctl.py on Music Radio) takes her time; she allows it, the
# call is established as a relay member and the channel's RTP reaches
# linphonec's port (counted on the wire) and its recording (440 Hz).  The
# host's /switch kids re-INVITEs her own multicast dialog and changes the
# source of bob's relay leg: the same RTP flow goes on and linphonec
# hears 660 Hz.  The host's BYE ends the space, and linphonec receives a
# BYE with the Reason "space ended by host".
. "$(dirname "$0")/../lib/e2e.sh"
. "$SRC/test/lib/clients.sh"
db_fresh
tv_start

rtp_count_start 7078
linphone_start bob
party_start host alice
party_do host start 232.10.0.4
wait_for "select channel from spaces where state = 'live'" music

lp "call sip:space-1@127.0.0.1:$SIP_PORT"
out_wait "$E2E_DIR/host.out" "got MESSAGE join request 1 from bob"
out_wait "$LP/out" "Call 1 to .* ringing"
log "ok: linphonec rings while the host is asked"
sleep 2
[ "$(rtp total)" -eq 0 ] || fail "RTP reached linphonec before admission"
t_allow=$(now)
party_do host allow
out_wait "$LP/out" "Call 1 with .* connected"
wait_for "select delivery from members where user_id = 'bob' and left_at is null" relay
log "ok: linphonec connected $(elapsed "$t_allow") s after /allow"
n=$(rtp_grows 3) && log "ok: $n RTP packets reached linphonec in 3 s" ||
	fail "only $n RTP packets reached linphonec in 3 s"
first=$(rtp first 0)
t_200=$(log_time "$(grep "space-1 bob joined as guest" "$E2E_DIR/tvspaced.log")")
log "first RTP packet $(elapsed "$t_allow" "$first") s after /allow was sent, $(elapsed "$t_200" "$first") s after tvspaced answered linphonec's INVITE"

lp "chat sip:space-1@127.0.0.1:$SIP_PORT hello from linphonec"
out_wait "$E2E_DIR/host.out" "got MESSAGE bob: hello from linphonec" 5
log "ok: linphonec's chat (a MESSAGE outside the call) reaches the host as bob's comment"

party_do host send /switch kids
out_wait "$E2E_DIR/host.out" "got INVITE 232.10.0.5"
wait_for "select channel from spaces" kids
n=$(rtp_grows 3) && log "ok: after /switch kids, $n RTP packets in 3 s" ||
	fail "after /switch kids, only $n RTP packets in 3 s"
invites=$(grep -ac "^INVITE sip:" "$LP/linphonec.log" || true)
log "linphonec's trace holds $invites INVITE request line(s) (its own; a relay leg is re-pointed without a re-INVITE)"
[ "$(rtp flows | wc -l)" -eq 1 ] ||
	fail "the switch changed the RTP flow: $(rtp flows)"

party_do host bye
out_wait "$LP/out" "Call 1 with .* ended" 10
python3 - "$LP/linphonec.log" <<'PY' || fail "linphonec got no BYE with the Reason"
import re, sys
log = open(sys.argv[1], errors="replace").read()
byes = re.findall(r"^BYE sip:[^\n]*\n(?:[^\n]+\n)*", log, re.M)
reasons = [m for b in byes for m in re.findall(r"^Reason: [^\n]*", b, re.M)]
print("linphonec received:", reasons)
sys.exit(0 if 'Reason: SIP;cause=200;text="space ended by host"' in reasons
         else 1)
PY
expect_sql "select role || ':' || leave_reason from members where user_id = 'bob'" \
	"guest:space ended by host"
sleep 1
a=$(rtp total)
sleep 1
[ "$(rtp total)" -eq "$a" ] || fail "RTP still reaches linphonec after the BYE"
linphone_stop
party_stop host
rtp_count_stop
log "RTP flows seen by linphonec's port:"
rtp flows
python3 "$SRC/test/lib/heard.py" "$LP/heard.wav" 440 660 || FAILED=1
e2e_finish
