#!/usr/bin/env python3
"""The digest authentication cases of test/e2e/auth.sh, over real sockets
with test/lib/sipclient.py.  The server runs with trust_loopback_from = no,
trusted_peers = 127.0.0.2 and nonce_lifetime = NONCE_LIFETIME; every demo
user's password is "tvspace".  Prints one line per check, "ok: ..." or
"FAIL: ...", and exits 1 when any failed.

Usage: auth_cases.py SIP_PORT NONCE_LIFETIME"""
import re
import sys
import time

from sipclient import Client, Dialog, authorization

PORT = int(sys.argv[1])
LIFETIME = int(sys.argv[2])
SERVER = ("127.0.0.1", PORT)
failed = 0


def check(what, cond, got=None):
    global failed
    if cond:
        print("ok: %s" % what)
    else:
        failed = 1
        print("FAIL: %s (got %r)" % (what, got))


def refused(what, r, status, warning):
    check("%s: %d with Warning '%s'" % (what, status, warning),
          r.status == status and warning in r.warning(), r)


def space_of(r):
    m = re.search(r"sip:(space-\d+)@", r.get("contact"))
    return m.group(1) if m else None


# -- alice with SHA-256: the challenge, the start, in-dialog without a new
#    challenge, a comment outside the dialog, its replay --------------------
c = Client(SERVER, "127.0.0.1", 0, "alice")
d = Dialog(c, "share", "tvspace", "SHA-256")
r = d.invite()
check("alice starts with SHA-256: 200", r.status == 200, r)
ch = d.challenges[0] if d.challenges else None
algs = [re.search(r"algorithm=([A-Z0-9-]+)", v).group(1)
        for v in ch.all("www-authenticate")] if ch else []
check("401 offers SHA-256 first, then MD5", algs == ["SHA-256", "MD5"], algs)
check("401 has a Warning", ch is not None and "authenticate" in ch.warning(),
      ch)
check("challenges: realm tvspace.test, qop auth",
      ch is not None and all('realm="tvspace.test"' in v and 'qop="auth"' in v
                             for v in ch.all("www-authenticate")), ch)
space = space_of(r)
r = d.indialog("MESSAGE", "/open")
check("in-dialog /open needs no new challenge: 200", r.status == 200, r)

# A comment to the space URI, outside the dialog (PROTOCOL.md "Comments").
m = Dialog(c, space, "tvspace", "SHA-256")
r = m.send_auth("MESSAGE", "first comment", "text/plain")
check("out-of-dialog comment, authenticated: 200", r.status == 200, r)
auth = m.last_auth
# The same credentials again (nonce count 1 again): a replay.
r = m.send("MESSAGE", "replayed comment", "text/plain", auth=auth)
refused("replayed nonce with the same nc", r, 401, "nonce count used before")
# The same nonce with the next count is a client reusing its nonce: fine.
chal = m.challenge_of(m.challenges[0])
auth2 = authorization(chal, "SHA-256", "alice", "tvspace", "MESSAGE",
                      m.ruri, nc=2)
r = m.send("MESSAGE", "second comment", "text/plain", auth=auth2)
check("same nonce, nc 2: 200", r.status == 200, r)
r = m.send("MESSAGE", "replayed again", "text/plain", auth=auth2)
refused("nc 2 again", r, 401, "nonce count used before")

# -- refusals that must not say who exists ---------------------------------
b = Client(SERVER, "127.0.0.1", 0, "bob")
t0 = time.time()
r1 = Dialog(b, "share", "wrong", "SHA-256").invite()
t_wrong = time.time() - t0
refused("bob with a wrong password", r1, 403, "authentication failed")
x = Client(SERVER, "127.0.0.1", 0, "mallory")
t0 = time.time()
r2 = Dialog(x, "share", "tvspace", "SHA-256").invite()
t_unknown = time.time() - t0
refused("unknown user mallory", r2, 403, "authentication failed")
check("wrong password and unknown user answered alike",
      (r1.status, r1.phrase, r1.warning()) ==
      (r2.status, r2.phrase, r2.warning()), (r1, r2))
print("timing: wrong password %.1f ms, unknown user %.1f ms"
      % (t_wrong * 1000, t_unknown * 1000))
r = Dialog(x, "share", "tvspace", "MD5").invite()
refused("unknown user with MD5", r, 403, "authentication failed")
# carol's From, bob's credentials.
cc = Client(SERVER, "127.0.0.1", 0, "carol")
r = Dialog(cc, "share", "tvspace").invite(user="bob")
refused("From carol, digest user bob", r, 403,
        "From user must be the digest username")

# Credentials made for another target.
od = Dialog(cc, "share", "tvspace")
r = od.send("INVITE", "v=0\r\n", "application/sdp")
r = od.send("INVITE", "v=0\r\n", "application/sdp",
            auth=authorization(od.challenge_of(r), "SHA-256", "carol",
                               "tvspace", "INVITE",
                               "sip:share@elsewhere.example"))
refused("credentials for another uri", r, 403,
        "uri is not the request-URI")

# -- requests outside a dialog without credentials ------------------------
for method in ("SUBSCRIBE", "REFER", "MESSAGE"):
    extra = {"SUBSCRIBE": ["Event: conference", "Expires: 60"],
             "REFER": ["Refer-To: <sip:carol@tvspace.test>"],
             "MESSAGE": []}[method]
    dd = Dialog(cc, space, headers=extra)
    r = dd.send(method, "hello" if method == "MESSAGE" else "",
                "text/plain" if method == "MESSAGE" else None)
    check("%s outside a dialog, no credentials: 401 with a challenge"
          % method, r.status == 401 and len(r.all("www-authenticate")) == 2
          and r.warning(), r)

# -- P-Asserted-Identity: ignored from 127.0.0.1, honoured from 127.0.0.2 --
pai = ["P-Asserted-Identity: <sip:carol@tvspace.test>"]
r = Dialog(c, "share", headers=pai).send(
    "INVITE", "v=0\r\n", "application/sdp")
check("PAI from an untrusted source is ignored: 401",
      r.status == 401 and r.warning(), r)
peer = Client(SERVER, "127.0.0.2", 0, "scscf")
pd = Dialog(peer, "share", headers=pai)
r = pd.invite()
check("PAI carol from the trusted peer: 200 without a challenge",
      r.status == 200 and not pd.challenges, r)
r = pd.indialog("BYE")
check("carol's BYE: 200", r.status == 200, r)

# -- a stale nonce: stale=true, then in -----------------------------------
sd = Dialog(b, "share", "tvspace", "MD5")
r = sd.send("INVITE", "v=0\r\n", "application/sdp")
check("bob is challenged", r.status == 401, r)
old = sd.challenge_of(r)
time.sleep(LIFETIME + 1.5)
from sipclient import SDP  # noqa: E402
body = SDP.format(addr="127.0.0.1")
r = sd.send("INVITE", body, "application/sdp",
            auth=authorization(old, "MD5", "bob", "tvspace", "INVITE",
                               sd.ruri))
check("an expired nonce: 401 stale=true on both challenges",
      r.status == 401 and len(r.all("www-authenticate")) == 2 and
      all("stale=true" in v for v in r.all("www-authenticate")) and
      "expired" in r.warning(), r)
r = sd.send("INVITE", body, "application/sdp",
            auth=authorization(sd.challenge_of(r), "MD5", "bob", "tvspace",
                               "INVITE", sd.ruri))
check("bob again with the new nonce (MD5): 200", r.status == 200, r)
r = sd.indialog("BYE")
check("bob's BYE: 200", r.status == 200, r)

r = d.indialog("BYE")
check("alice's BYE: 200", r.status == 200, r)
sys.exit(failed)
