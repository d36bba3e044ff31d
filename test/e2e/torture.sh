#!/usr/bin/env bash
# Bad input: the RFC 4475 torture messages (test/data/torture, their
# expected answers in expected.tsv) over UDP and over TCP, then hostile SDP
# and bodies at the factory URI (each refused with a Warning, 413 for an
# oversized offer, 415 with Accept for a body that is not SDP) and BYE,
# INFO and MESSAGE in dialogs that do not exist (481).  tvspaced
# (built with ASan and UBSan) must stay up, store nothing, answer OPTIONS
# and start a space afterwards, and stop cleanly with nothing in its log
# from a sanitizer.
. "$(dirname "$0")/../lib/e2e.sh"
TORTURE="python3 $SRC/test/lib/torture.py"
DATA=$SRC/test/data/torture
export SIP_PORT
db_fresh
tv_start

# One tvspaced per transport: the RFC's messages share Call-IDs and
# branches between the runs, and a transaction of the UDP run would take
# the TCP run's message for a retransmission.
for tp in udp tcp; do
	$TORTURE rfc4475 "$DATA" $tp | tee "$E2E_DIR/rfc4475-$tp.out" ||
		fail "RFC 4475 over $tp: not every answer as expected"
	kill -0 "$TV_PID" 2>/dev/null || die "tvspaced died on RFC 4475 over $tp"
	$TORTURE options $tp || fail "no answer to OPTIONS after RFC 4475 over $tp"
	tv_stop
	tv_start
done
for tp in udp tcp; do
	$TORTURE hostile $tp | tee "$E2E_DIR/hostile-$tp.out" ||
		fail "hostile bodies over $tp: not every answer as expected"
	kill -0 "$TV_PID" 2>/dev/null || die "tvspaced died on hostile bodies"
done
count() { sed -n "s|^$1: \([0-9]*/[0-9]*\) as expected.*|\1|p" "$2"; }
log "RFC 4475: $(count 'RFC 4475' "$E2E_DIR/rfc4475-udp.out") as expected" \
	"over UDP, $(count 'RFC 4475' "$E2E_DIR/rfc4475-tcp.out") over TCP;" \
	"hostile bodies: $(count 'hostile bodies' "$E2E_DIR/hostile-udp.out")" \
	"over UDP, $(count 'hostile bodies' "$E2E_DIR/hostile-tcp.out") over TCP"
grep -h "known deviation:\|mismatch:" "$E2E_DIR"/rfc4475-*.out \
	"$E2E_DIR"/hostile-*.out || true

expect_sql "select count(*) from spaces" 0
expect_sql "select count(*) from members" 0

# Still serving: OPTIONS, and a space started and ended.
$TORTURE options udp || fail "no answer to OPTIONS at the end"
$TORTURE start udp || fail "no space started at the end"
wait_for "select host_user || ' ' || state from spaces" "alice ended"
tv_stop
if grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" \
	"$E2E_DIR/tvspaced.log"; then
	fail "sanitizer report in the log"
	grep -E -A5 "AddressSanitizer|LeakSanitizer|runtime error" \
		"$E2E_DIR/tvspaced.log" | head -40
fi
e2e_finish
