#!/usr/bin/env bash
# RFC 4579 §5.5: the host adds a user with a REFER sent outside any dialog
# to the conference URI (here from a second device of alice's: its own
# Call-ID, no To tag).  The focus answers 202 with its isfocus Contact,
# INVITEs carol into the space already admitted, and reports the INVITE's
# outcome in the NOTIFYs of the REFER's subscription (RFC 3515 §2.4.4; the
# first may overtake the 202).  The in-dialog REFER is kick_refer.sh's.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
tv_start

sipp_start host host_start alice share 5091 6000
wait_for "select count(*) from spaces where state = 'live'" 1
sipp_start carol invitee carol x 5093
PYTHONPATH="$SRC/test/lib" python3 - "$SIP_PORT" <<'PY' || FAILED=1
import re, sys, time
from sipclient import Client, Dialog

c = Client(("127.0.0.1", int(sys.argv[1])), port=5094, user="alice")
d = Dialog(c, "space-1")
r = d.send("REFER", extra=["Refer-To: <sip:carol@127.0.0.1:5093>"])
print("REFER outside a dialog:", r.status, r.phrase, "Contact", r.get("contact"))
ok = r.status == 202 and re.search(r"<sip:space-1@[^>]+>;isfocus",
                                   r.get("contact"))
# The NOTIFYs until the final one (transact() answered any that came
# before the 202).
final = None
end = time.time() + 10
while time.time() < end and not final:
    n = c.receive(1)
    if n is None or n.request != "NOTIFY":
        continue
    c.answer_request(n)
    print("NOTIFY", n.get("subscription-state"), n.body.strip())
    if n.get("subscription-state").startswith("terminated"):
        final = n
ok = ok and final is not None and final.body.startswith("SIP/2.0 200")
ok = ok and final.get("event").startswith("refer")
sys.exit(0 if ok else 1)
PY
wait_for "select role from members where user_id = 'carol' and left_at is null" guest
sipp_wait host
sipp_wait carol
expect_sql "select string_agg(user_id || ':' || role || ':' || leave_reason, ',' order by user_id) from members" \
	"alice:host:space ended by host,carol:guest:space ended by host"
e2e_finish
