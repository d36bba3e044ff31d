#!/usr/bin/env bash
# An INVITE whose answer cannot be sent, then its ACK: sofia-sip 1.12.11
# keeps such a transaction on its "final failed" queue until its next
# timer, and an ACK that finds it there fails an assertion in nta.c's
# incoming_ack() and aborts the process.  tvspaced must not be killable by
# two datagrams.  For each way of making the answer undeliverable
# (test/lib/rawsip.py: port 0 in the Via, with a host name and with an
# address; a port past 65535; a host that does not resolve, which
# received= makes harmless; a maddr that does not resolve, or the
# broadcast address; a compression the server does not have; an answer
# too big for a datagram; over TCP, port 0 and a connection closed before
# the answer) alice, believed from loopback in the test configuration,
# sends the INVITE to the factory URI and ACKs with its branch.  After each
# tvspaced must still run and answer OPTIONS; at the end it starts a space
# and stops cleanly.
. "$(dirname "$0")/../lib/e2e.sh"
RAW="python3 $SRC/test/lib/rawsip.py"
export SIP_PORT
db_fresh
tv_start

dead=()
for v in $($RAW variants); do
	$RAW ack "$v" || fail "$v: could not send"
	sleep 0.5
	if ! kill -0 "$TV_PID" 2>/dev/null; then
		rc=0
		wait "$TV_PID" || rc=$?
		TV_PID=
		fail "$v: tvspaced died (exit status $rc)"
		grep -m1 -h "Assertion\|AddressSanitizer" \
			"$E2E_DIR/tvspaced.log" || true
		dead+=("$v")
		tv_start
		continue
	fi
	$RAW options >/dev/null || fail "$v: OPTIONS not answered afterwards"
	log "ok: $v: still serving"
done
[ ${#dead[@]} -eq 0 ] || log "killed by: ${dead[*]}"

# Still serving: a space started and ended.
python3 "$SRC/test/lib/torture.py" start udp ||
	fail "no space started at the end"
if grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" \
	"$E2E_DIR/tvspaced.log"; then
	fail "sanitizer report in the log"
fi
e2e_finish
