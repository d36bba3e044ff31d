#!/usr/bin/env bash
# The items of issue 18 that no other end-to-end test drives, each against
# a running server (docs/sip-interface.md, "Conformance"):
# - RFC 3261 §11, RFC 4579 §5.13: OPTIONS to a space URI gets 200 with the
#   space's SDP and the isfocus Contact, to the factory 200 with what the
#   server takes, to a space that does not exist 404;
# - RFC 3264 §5: an INVITE without an offer gets the channel offered in
#   the 200, answered in the ACK;
# - RFC 3264 §6.2: an offer of another multicast group than the space's
#   channel gets that stream refused (port 0, its own group) and the
#   channel in a re-INVITE once the ACK came;
# - RFC 6050: P-Asserted-Service and P-Preferred-Service name the service
#   a space starts under; ETSI TS 183 063: a=bc_service at the session
#   level; a=tvspace-channel names the channel;
# - RFC 6501's deny list: a user the host removed (/kick) may not ask
#   again until the host says so (/unban);
# - members are told who left (member_notices).
. "$(dirname "$0")/../lib/e2e.sh"
db_fresh
MEMBER_NOTICES=yes tv_config
tv_start

PYTHONPATH="$SRC/test/lib" python3 - "$SIP_PORT" "$CONN" <<'PY' ||
import re, subprocess, sys, time
from sipparty import Party, sdp, pump
from sipclient import Client, Dialog

port, conn = int(sys.argv[1]), sys.argv[2]
ok = True
def check(what, cond):
    global ok
    print(("ok: " if cond else "FAIL: ") + what)
    ok = ok and bool(cond)
def sql(q):
    return subprocess.run(["psql", conn, "-XAtqc", q], check=True,
                          capture_output=True, text=True).stdout.strip()

class Answering(Party):
    """Answers an offer that came in a 200 (RFC 3264 §5) in its ACK."""
    def _ack(self, r):
        offered = not self.invite_text.endswith("Content-Length: 0\r\n\r\n")
        if r.status >= 300 or not r.body or offered:
            return Party._ack(self, r)
        self.to_tag = re.search(r"tag=([^;>\s]+)", r.get("to")).group(1)
        self.remote = re.search(r"<([^>]+)>", r.get("contact")).group(1)
        text, _ = self.c.request(
            "ACK", self.remote, self.to_uri, self.call_id, self.tag,
            self.to_tag, cseq=self.invite_cseq, body=sdp(),
            ctype="application/sdp")
        self.acked_with = text
        self.c.send(text)

# -- a space, open -------------------------------------------------------
alice = Party(port, "alice")
check("alice starts", alice.invite("share", sdp()).status == 200)
check("/open", alice.message("/open").status == 200)

# OPTIONS (RFC 3261 §11; RFC 4579 §4.3, §5.13)
c = Client(("127.0.0.1", port), user="frank")
r = Dialog(c, "space-1").send("OPTIONS")
check("OPTIONS space-1: 200 with the isfocus Contact and the space's SDP "
      "(%r)" % r, r.status == 200 and
      re.search(r"<sip:space-1@[^>]+>;isfocus", r.get("contact")) and
      "c=IN IP4 232.10.0.1/16" in r.body and
      "conference" in r.get("allow-events"))
r = Dialog(c, "share").send("OPTIONS")
check("OPTIONS share: 200 without SDP, Accept lists application/sdp",
      r.status == 200 and not r.body and "application/sdp" in r.get("accept"))
r = Dialog(c, "space-99").send("OPTIONS")
check("OPTIONS space-99: 404 (%r)" % r, r.status == 404)

# An INVITE without an offer (RFC 3264 §5): the offer in the 200
bob = Answering(port, "bob")
r = bob.invite("space-1", "")
check("bob joins without an offer: 200 with the channel offered (%r)" % r,
      r.status == 200 and "c=IN IP4 232.10.0.1/16" in r.body and
      "m=video 5004 RTP/AVP 33" in r.body)
check("... answered in the ACK", "application/sdp" in
      getattr(bob, "acked_with", ""))

# An offer of another group (RFC 3264 §6.2)
carol = Party(port, "carol")
r = carol.invite("space-1", sdp(group="232.10.0.9"))
check("carol offers 232.10.0.9: that stream refused in the 200 (%r)" % r,
      r.status == 200 and "c=IN IP4 232.10.0.9/16" in r.body and
      re.search(r"^m=video 0 ", r.body, re.M))
carol.wait(lambda: carol.requests("INVITE"), 5, "the re-INVITE")
check("... then re-INVITEd to the channel, 232.10.0.1",
      "c=IN IP4 232.10.0.1/16" in carol.requests("INVITE")[-1][1].body)

# The 200 to a member's own re-INVITE names the focus too (RFC 4579 §4.2:
# it refreshes the member's remote target)
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

# RFC 6501's deny list
dave = Party(port, "dave")
check("dave joins", dave.invite("space-1", sdp()).status == 200)
check("/kick dave", alice.message("/kick dave").status == 200)
everyone = [alice, bob, carol, dave]
pump(everyone, 0.5)
dave2 = Party(port, "dave")
r = dave2.invite("space-1", sdp())
check("dave asks again: 403 (%r)" % r, r.status == 403)
check("/unban dave", alice.message("/unban dave").status == 200)
dave3 = Party(port, "dave")
check("dave joins again", dave3.invite("space-1", sdp()).status == 200)

# Who left is told (member_notices)
everyone = [alice, bob, carol, dave3]
check("bob leaves", bob.bye().status == 200)
pump(everyone, 1.5)
check("alice is told bob left: %r" % alice.messages(),
      any(re.search(r"\bbob left", m) for m in alice.messages()))
check("carol too", any(re.search(r"\bbob left", m) for m in carol.messages()))
check("alice ends the space", alice.bye().status == 200)
pump(everyone, 0.5)

# The service and the channel a start names
for user, how, svc, body in (
        ("bob", ["P-Asserted-Service: svc-bob-premium"], "svc-bob-premium",
         sdp()),
        ("bob", ["P-Preferred-Service: svc-bob-premium"], "svc-bob-premium",
         sdp()),
        ("bob", [], "svc-bob-premium",
         sdp().replace("t=0 0\r\n", "t=0 0\r\na=bc_service:svc-bob-premium\r\n")),
        ("carol", [], "svc-carol",
         sdp(group="192.0.2.1").replace("/16", "").replace(
             "a=recvonly", "a=recvonly\r\na=tvspace-channel:sports\r\n"
             "a=tvspace-delivery:multicast"))):
    p = Party(port, user)
    r = p.invite("share", body, extra=how)
    last = sql("select host_service || ' ' || channel from spaces "
               "order by id desc limit 1")
    check("%s starts with %s: %r, stored %s" %
          (user, how or body.split("\r\n")[5:8], r, last),
          r.status == 200 and last.startswith(svc))
    if "tvspace-channel" in body:
        check("... on the channel a=tvspace-channel names",
              last.endswith("sports") and "232.10.0.2" in r.body)
    p.bye()
sys.exit(0 if ok else 1)
PY
	FAILED=1
e2e_finish
