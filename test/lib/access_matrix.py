#!/usr/bin/env python3
"""The access matrix of test/e2e/access.sh: every role x action against
space 1, over real sockets with test/lib/sipclient.py, everyone
authenticated by digest (the server runs with trust_loopback_from = no).

Roles: host (bob, in his dialog), guest (dave, in his), pending (carol,
asked to join and not admitted: her requests go to the space URI),
stranger (frank), member of another space (erin, host of space 2), and a
request with an untrusted P-Asserted-Identity naming the host (no
credentials, from 127.0.0.1).  Actions: /switch, /handover, /grab, /kick,
/open, /close, /end, a comment, REFER inviting someone, REFER removing
someone, SUBSCRIBE to the conference, INFO DTMF, /quiz.  The expected
answers come from docs/sip-interface.md.  Prints each cell and
"access matrix: N combinations, F failures"; exits 1 on a failure.

Usage: access_matrix.py SIP_PORT"""
import re
import sys

from sipclient import Client, Dialog, authorization

PORT = int(sys.argv[1])
SERVER = ("127.0.0.1", PORT)
PW = "tvspace"
clients = []
cells = []
failures = []


def client(user, addr="127.0.0.1"):
    c = Client(SERVER, addr, 0, user)
    clients.append(c)
    return c


def pump():
    """Answer what the server sent anyone (MESSAGEs, NOTIFYs, BYEs)."""
    for c in clients:
        while True:
            r = c.receive(0.001)
            if r is None:
                break
            if r.request:
                c.answer_request(r)


def cell(role, action, r, status, warning=""):
    pump()
    ok = r is not None and r.status == status and warning in r.warning()
    cells.append((role, action))
    line = "%-9s %-16s %s (want %d%s)" % (
        role, action, r, status, " '%s'" % warning if warning else "")
    print(("ok:   " if ok else "FAIL: ") + line)
    if not ok:
        failures.append(line)


class Member:
    """A party in a space: its dialog, for in-dialog requests."""

    def __init__(self, user, target):
        self.c = client(user)
        self.d = Dialog(self.c, target, PW, "SHA-256")

    def join(self, want=200):
        pump()
        r = self.d.invite()
        assert r.status == want, "%s: %r" % (self.c.user, r)
        return r

    def text(self, body, method="MESSAGE"):
        pump()
        return self.d.indialog(method, body)

    def dtmf(self, keys):
        r = None
        for k in keys:
            pump()
            r = self.d.indialog("INFO", "Signal=%s\r\nDuration=160\r\n" % k,
                                "application/dtmf-relay")
        return r

    def refer(self, to):
        pump()
        text, branch = self.c.request(
            "REFER", self.d.remote, self.d.to_uri, self.d.call_id,
            self.d.tag, self.d.to_tag, headers=["Refer-To: <%s>" % to])
        return self.c.transact(text, branch)

    def subscribe(self):
        pump()
        text, branch = self.c.request(
            "SUBSCRIBE", self.d.remote, self.d.to_uri, self.d.call_id,
            self.d.tag, self.d.to_tag,
            headers=["Event: conference", "Expires: 60"])
        return self.c.transact(text, branch)


class Outsider:
    """Requests to the space URI outside any dialog, with credentials
    (or, for the untrusted PAI, without)."""

    def __init__(self, user, target, addr="127.0.0.1", headers=(),
                 password=PW):
        self.c = client(user, addr)
        self.target = target
        self.headers = list(headers)
        self.password = password

    def send(self, method, body="", ctype=None, extra=()):
        pump()
        d = Dialog(self.c, self.target, self.password, "SHA-256",
                   headers=self.headers + list(extra))
        if self.password:
            return d.send_auth(method, body, ctype)
        return d.send(method, body, ctype)

    def text(self, body, method="MESSAGE"):
        return self.send(method, body, "text/plain")

    def dtmf(self, keys):
        return self.send("INFO", "Signal=%s\r\n" % keys[-1],
                         "application/dtmf-relay")

    def refer(self, to):
        return self.send("REFER", extra=["Refer-To: <%s>" % to])

    def subscribe(self):
        return self.send("SUBSCRIBE", extra=["Event: conference",
                                             "Expires: 60"])


NOT_MEMBER = "not a member of this space"
ONLY_HOST = "only the host can do that"

# -- the rooms --------------------------------------------------------------
host = Member("bob", "share")
r = host.join()
space = re.search(r"sip:(space-\d+)@", r.get("contact")).group(1)
assert host.text("/open").status == 200
guest = Member("dave", space)
guest.join()
assert host.text("/close").status == 200
other = Member("erin", "share")
other.join()
# carol asks to join and waits: her INVITE is answered 180, not finally.
pending_c = client("carol")
pd = Dialog(pending_c, space, PW, "SHA-256")
r = pd.send("INVITE", "v=0\r\n", "application/sdp")
chal = pd.challenge_of(r)
from sipclient import SDP  # noqa: E402
text, _ = pending_c.request(
    "INVITE", pd.ruri, pd.to_uri, pd.call_id, pd.tag,
    headers=["Authorization: " + authorization(
        chal, "SHA-256", "carol", PW, "INVITE", pd.ruri)],
    body=SDP.format(addr="127.0.0.1"), ctype="application/sdp")
pending_c.send(text)
while True:
    r = pending_c.receive(5)
    assert r is not None, "carol: no answer to her join"
    if r.status == 180:
        break
    assert r.status < 200, "carol: %r" % r

pending = Outsider("carol", space)
stranger = Outsider("frank", space)
elsewhere = Outsider("erin", space)
pai = Outsider("mallory", space, headers=[
    "P-Asserted-Identity: <sip:bob@tvspace.test>"], password=None)

# -- everyone but the host, then the host's harmless actions, then the
#    host's actions that change the room ---------------------------------
for role, p in (("guest", guest), ("pending", pending),
                ("stranger", stranger), ("other", elsewhere),
                ("pai", pai)):
    member = role == "guest"
    if role == "pai":
        # No credentials, the PAI ignored: challenged (INFO outside a
        # dialog acts on nothing and is refused without a challenge).
        want, why = 401, "authenticate with SIP digest"
    elif member:
        want, why = 403, ONLY_HOST
    else:
        # Outside the dialog: commands are refused, members or not.
        want, why = 403, ""
    cell(role, "/switch", p.text("/switch sports"), want,
         "only the host can switch" if member else why)
    cell(role, "/handover", p.text("/handover dave"), want, why)
    cell(role, "/grab", p.text("/grab"),
         200 if member else want, "" if member else why)
    cell(role, "/kick", p.text("/kick dave"), want, why)
    cell(role, "/open", p.text("/open"), want, why)
    cell(role, "/close", p.text("/close"), want, why)
    cell(role, "/end", p.text("/end"), want, why)
    cell(role, "comment", p.text("hello from %s" % role),
         200 if member else want,
         "" if member else NOT_MEMBER if role != "pai" else why)
    cell(role, "REFER invite", p.refer("sip:alice@tvspace.test"),
         want, why if role == "pai" else ONLY_HOST if member else NOT_MEMBER)
    cell(role, "REFER remove", p.refer("sip:dave@tvspace.test;method=BYE"),
         want, why if role == "pai" else ONLY_HOST if member else NOT_MEMBER)
    cell(role, "SUBSCRIBE", p.subscribe(),
         200 if role in ("guest", "pending") else want,
         "" if role in ("guest", "pending") else
         why if role == "pai" else NOT_MEMBER)
    cell(role, "INFO DTMF", p.dtmf("2#"), 403,
         "only the host can switch" if member else NOT_MEMBER)
    cell(role, "/quiz", p.text("/quiz Who wins? | Home | Away"), want,
         "" if role != "pai" else why)

# The host, harmless first.
cell("host", "comment", host.text("hello from the host"), 200)
cell("host", "SUBSCRIBE", host.subscribe(), 200)
cell("host", "/open", host.text("/open"), 200)
cell("host", "/close", host.text("/close"), 200)
cell("host", "/quiz", host.text("/quiz Who wins? | Home | Away"), 200)
host.text("/quiz end")
cell("host", "/switch", host.text("/switch sports"), 200)
cell("host", "INFO DTMF", host.dtmf("1#"), 200)
cell("host", "/grab", host.text("/grab"), 403)
cell("host", "REFER invite", host.refer("sip:alice@127.0.0.1:9"), 202)
# Then what removes dave (he dials in again in between) and hands over.
cell("host", "REFER remove", host.refer("sip:dave@tvspace.test;method=BYE"),
     202)
# A removed user may not ask again until the host says so (RFC 6501).
cell("host", "/unban", host.text("/unban dave"), 200)
host.text("/open")
guest = Member("dave", space)
guest.join()
cell("host", "/kick", host.text("/kick dave"), 200)
host.text("/unban dave")
guest = Member("dave", space)
guest.join()
cell("host", "/handover", host.text("/handover dave"), 200)
cell("host", "/end", guest.text("/end"), 200)  # dave holds the remote now

pump()
print("access matrix: %d combinations, %d failures"
      % (len(cells), len(failures)))
sys.exit(1 if failures else 0)
