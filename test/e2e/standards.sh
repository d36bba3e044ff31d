#!/usr/bin/env bash
# Items of issue 18 that offer_answer.sh (OPTIONS, offers, the deny list)
# leaves to this test (docs/sip-interface.md, "Conformance"):
# - RFC 4579 §4.2: the 200 to a member's own re-INVITE (a target refresh)
#   keeps the focus's isfocus Contact;
# - RFC 6050: P-Asserted-Service names the service a space starts under;
# - members are told who left (member_notices), each of them.
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
MEMBER_NOTICES=yes tv_config
tv_start

PYTHONPATH="$SRC/test/lib" python3 - "$SIP_PORT" "$CONN" <<'PY' ||
import re, sys
from sipparty import Party, sdp, pump, sql_on, Checks

port, conn = int(sys.argv[1]), sys.argv[2]
check = Checks()
sql = sql_on(conn)

alice = Party(port, "alice")
check("alice starts", alice.invite("share", sdp()).status == 200)
check("/open", alice.message("/open").status == 200)
bob, carol = Party(port, "bob"), Party(port, "carol")
for p in (bob, carol):
    check("%s joins" % p.user, p.invite("space-1", sdp()).status == 200)

# The 200 to a member's own re-INVITE names the focus (RFC 4579 §4.2: it
# refreshes the member's remote target).
text, branch = carol.c.request(
    "INVITE", carol.remote, carol.to_uri, carol.call_id, carol.tag,
    carol.to_tag, body=sdp(version=2), ctype="application/sdp")
cseq = int(re.search(r"CSeq: (\d+)", text).group(1))
carol.c.send(text)
carol.wait(lambda: branch in carol.finals, 5, "the 200 to its re-INVITE")
r = carol.finals.pop(branch)
ack, _ = carol.c.request("ACK", carol.remote, carol.to_uri, carol.call_id,
                         carol.tag, carol.to_tag, cseq=cseq)
carol.c.send(ack)
check("carol's re-INVITE: 200 with the isfocus Contact (%s)" %
      r.get("contact"), r.status == 200 and
      re.search(r"<sip:space-1@[^>]+>;isfocus", r.get("contact")))

# Who left is told, to every member
everyone = [alice, bob, carol]
check("bob leaves", bob.bye().status == 200)
pump(everyone, 1.5)
check("alice is told 'bob left': %r" % alice.messages(),
      any(re.search(r"\bbob left\b", m) for m in alice.messages()))
check("carol is told too: %r" % carol.messages(),
      any(re.search(r"\bbob left\b", m) for m in carol.messages()))
check("alice ends the space", alice.bye().status == 200)
pump(everyone, 0.5)

# RFC 6050: P-Asserted-Service, believed as the identity is (here from
# loopback, as the test configuration believes its From)
bob2 = Party(port, "bob")
r = bob2.invite("share", sdp(), extra=["P-Asserted-Service: svc-bob-premium"])
svc = sql("select host_service from spaces order by id desc limit 1")
check("bob starts with P-Asserted-Service: svc-bob-premium: %r, %s" %
      (r, svc), r.status == 200 and svc == "svc-bob-premium")
bob2.bye()
sys.exit(0 if check.ok else 1)
PY
	FAILED=1
e2e_finish
