#!/usr/bin/env bash
# What each final answer to a switch re-INVITE does, one member per code,
# all in one space (docs/sip-interface.md, "Answers to a re-INVITE"):
# - a refusal of the request (RFC 6141; RFC 5057 §5.1 "transaction
#   only"): the member stays on the channel it had, is told so, no BYE;
# - an answer that destroys the dialog or its usage (RFC 5057 §5.1): the
#   dialog is over without a BYE, the member has left;
# - 500, 501, 503, 600 without Retry-After: the SIP stack (sofia-sip)
#   ends the session with a BYE, as RFC 5057 §5.1 note 13 allows;
# - 500 and 503 with Retry-After: the stack sends the re-INVITE again
#   after it; meanwhile the member stays.
# The answers 491, 422, 481 and 408 are repoint_faults.sh's and
# dialout_timers.sh's.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
STAYS="400 401 403 407 415 486 488 489 580 603 606"
ENDS="404 405 410 416 480 482 484 485 502 604"
BYES="483 500 501 503 600"
RETRIED="1500 1503"
CODES="$STAYS $ENDS $BYES $RETRIED"
for code in $CODES; do
	sql "insert into users (user_id) values ('g$code');
	     insert into services (service_default_id, user_id, level,
	                           default_channel, is_default)
	     values ('svc-g$code', 'g$code', 1, 'news', true)" >/dev/null
done
tv_start

PYTHONPATH="$SRC/test/lib" python3 - "$SIP_PORT" "$CONN" "$STAYS" "$ENDS" \
	"$BYES" "$RETRIED" <<'PY' ||
import sys
from sipparty import Party, sdp, pump, sql_on

port, conn = int(sys.argv[1]), sys.argv[2]
stays, ends, byes, retried = ([int(c) for c in a.split()] for a in sys.argv[3:7])
codes = stays + ends + byes + retried
sql = sql_on(conn)

host = Party(port, "erin")
assert host.invite("share", sdp()).status == 200
assert host.message("/open").status == 200
class RetryAfter(Party):
    """Refuses re-INVITEs with Retry-After: 30 (codes 1500, 1503: 500
    and 503 with it)."""
    def _answer(self, r, status, phrase, body=None, ctype=None):
        if status < 1000:
            return Party._answer(self, r, status, phrase, body, ctype)
        lines = ["SIP/2.0 %d Refused" % (status - 1000)]
        lines += ["Via: %s" % v for v in r.all("via")]
        to = r.get("to")
        lines += ["From: %s" % r.get("from"), "To: %s" % to,
                  "Call-ID: %s" % r.get("call-id"),
                  "CSeq: %s" % r.get("cseq"), "Retry-After: 30",
                  "Content-Length: 0"]
        self.c.send("\r\n".join(lines) + "\r\n\r\n")

guests = {}
for code in codes:
    g = RetryAfter(port, "g%d" % code)
    assert g.invite("space-1", sdp()).status == 200, code
    g.reinvite_status = code
    guests[code] = g
everyone = [host] + list(guests.values())
assert host.message("/switch sports").status == 200
pump(everyone, 4)
ok = True
for code, g in guests.items():
    row = sql("select coalesce(leave_reason, 'in') || ' ' || "
              "coalesce(channel, 'sports') from members "
              "where user_id = 'g%d'" % code)
    told = any("refused" in m for m in g.messages())
    bye = bool(g.requests("BYE"))
    if code in stays:
        want = ("in news", True, False)
    elif code in ends:
        want = ("dialog terminated news", True, False)
    elif code in byes:
        want = ("dialog terminated news", True, True)
    else:
        want = ("in sports", False, False)
    got = (row, told, bye)
    print("%s %d: member %s, told %s, BYE %s" %
          ("ok:" if got == want else "FAIL:", code % 1000, row, told, bye)
          + (" (with Retry-After)" if code > 1000 else ""))
    ok = ok and got == want
sys.exit(0 if ok else 1)
PY
	FAILED=1
e2e_finish
