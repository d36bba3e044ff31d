#!/usr/bin/env python3
"""Who may read a space's room state (test/e2e/conference_access.sh): the
server runs with trust_loopback_from = no and 127.0.0.2 as its trusted
peer (an IMS proxy asserting P-Asserted-Identity).  A SUBSCRIBE from the
trusted peer is the user its P-Asserted-Identity names, so only a member
of the space (or a joiner waiting for the host) gets the room; a user the
peer asserts who is not in the space gets 403, and so does a user who
authenticated by digest from the peer's address.  A request from the peer
that asserts nobody is challenged by the gate (401) like anyone's.

Prints one line a case and "subscribe access: N cases, F failures";
exits 1 on a failure.  Usage: subscribe_access.py SIP_PORT"""
import re
import sys
import time

from sipclient import SDP, Client, Dialog

PORT = int(sys.argv[1])
SERVER = ("127.0.0.1", PORT)
PEER = "127.0.0.2"
PW = "tvspace"
clients = []
failures = []
cases = 0


def client(user, addr=PEER):
    c = Client(SERVER, addr, 0, user)
    clients.append(c)
    return c


def pai(user):
    return ["P-Asserted-Identity: <sip:%s@tvspace.test>" % user]


def pump():
    for c in clients:
        while True:
            r = c.receive(0.001)
            if r is None:
                break
            if r.request:
                c.answer_request(r)


last_dialog = None


def first_notify(c, timeout=3):
    """The next NOTIFY to @c (answered): (its text, its body) or None."""
    end = time.time() + timeout
    while time.time() < end:
        n = c.receive(0.2)
        if n is None or not n.request:
            continue
        c.answer_request(n)
        if n.request == "NOTIFY":
            return n
    return None


def subscribe(c, target, headers=(), password=None):
    """SUBSCRIBE outside a dialog; returns (final response, the first
    NOTIFY's body or None)."""
    global last_dialog
    pump()
    d = Dialog(c, target, password, "SHA-256", headers=list(headers))
    last_dialog = d
    extra = ["Event: conference", "Expires: 60",
             "Accept: application/conference-info+xml"]
    r = d.send("SUBSCRIBE", extra=extra)
    if r.status == 401 and password:
        from sipclient import authorization
        chal = d.challenge_of(r)
        auth = authorization(chal, "SHA-256", c.user, password, "SUBSCRIBE",
                             d.ruri)
        r = d.send("SUBSCRIBE", extra=extra, auth=auth)
    body = None
    if r.status == 200:
        n = first_notify(c)
        body = n.body if n else None
        d.to_tag = re.search(r"tag=([^;>\s]+)", r.get("to")).group(1)
        d.remote = re.search(r"<([^>]+)>", r.get("contact")).group(1)
    return r, body


def case(what, got, status, warning="", body_has=None):
    global cases
    cases += 1
    r, body = got
    ok = r.status == status and warning in r.warning()
    if ok and body_has is not None:
        ok = body is not None and body_has in body
    line = "%-52s %r (want %d%s)" % (what, r, status,
                                     " '%s'" % warning if warning else "")
    print(("ok:   " if ok else "FAIL: ") + line)
    if not ok:
        failures.append(line)


# alice starts a space through the trusted peer, which asserts her.
alice = client("alice")
ad = Dialog(alice, "share", headers=pai("alice"))
r = ad.send("INVITE", SDP.format(addr=PEER), "application/sdp")
assert r.status == 200, "alice's start: %r" % r
space = re.search(r"sip:(space-\d+)@", r.get("contact")).group(1)

# bob asks to join, through the peer too, and waits for alice (180).
bob = client("bob")
bd = Dialog(bob, space, headers=pai("bob"))
text, _ = bob.request("INVITE", bd.ruri, bd.to_uri, bd.call_id, bd.tag,
                      headers=pai("bob"), body=SDP.format(addr=PEER),
                      ctype="application/sdp")
bob.send(text)
while True:
    r = bob.receive(5)
    assert r is not None, "bob: no answer to his join"
    if r.request:
        bob.answer_request(r)
        continue
    if r.status == 180:
        break
    assert r.status < 200, "bob: %r" % r

NOT_MEMBER = "not a member of this space"
case("peer asserts mallory (no member): 403",
     subscribe(client("mallory"), space, pai("mallory")), 403, NOT_MEMBER)
case("peer asserts erin (a stranger to the space): 403",
     subscribe(client("erin"), space, pai("erin")), 403, NOT_MEMBER)
case("carol by digest from the peer's address: 403",
     subscribe(client("carol"), space, password=PW), 403, NOT_MEMBER)
case("frank by digest from elsewhere: 403",
     subscribe(client("frank", "127.0.0.1"), space, password=PW), 403,
     NOT_MEMBER)
case("the peer asserting nobody: challenged (401)",
     subscribe(client("monitor"), space), 401)
case("peer asserts alice (the host): 200 and the room",
     subscribe(client("alice"), space, pai("alice")), 200,
     body_has='<conference-info')
# alice refreshes her subscription in its dialog, at the focus's Contact:
# the full state again, the next version (RFC 4575 §4.6).  (sofia-sip's
# nua answers the refresh itself and sends the last NOTIFY again first,
# version 1 again: a subscriber ignores a version it has.)
d = last_dialog
cases += 1
ok = re.match(r"sip:space-\d+@", d.remote or "") is not None
text, branch = d.c.request("SUBSCRIBE", d.remote, d.to_uri, d.call_id, d.tag,
                           d.to_tag, headers=["Event: conference",
                                              "Expires: 60"])
got = []
d.c.send(text)
end = time.time() + 3
r = None
while time.time() < end and not any('version="2"' in b for b in got):
    m = d.c.receive(0.2)
    if m is None:
        continue
    if m.request:
        d.c.answer_request(m)
        if m.request == "NOTIFY":
            got.append(m.body)
    elif branch in m.get("via") and m.status >= 200:
        r = m
versions = [re.search(r'state="(\w+)" version="(\d+)"', b).groups()
            for b in got]
ok = ok and r is not None and r.status == 200 and \
    ("full", "2") in versions and \
    all(int(v) <= 2 for _, v in versions)
print(("ok:   " if ok else "FAIL: ") +
      "alice refreshes at %s: %r, then NOTIFYs %s" % (d.remote, r, versions))
if not ok:
    failures.append("refresh")

case("peer asserts bob (waiting for the host): 200 and the room",
     subscribe(client("bob"), space, pai("bob")), 200,
     body_has='sip:bob@tvspace.test')
case("a space that does not exist: 404",
     subscribe(client("alice"), "space-999", pai("alice")), 404)

pump()
print("subscribe access: %d cases, %d failures" % (cases, len(failures)))
sys.exit(1 if failures else 0)
