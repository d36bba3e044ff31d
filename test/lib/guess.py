#!/usr/bin/env python3
"""Password guessing against tvspaced, for test/e2e/auth_guard.sh
(test/lib/sipclient.py over real sockets).  The server runs without
loopback trust, with auth_failures = 3, auth_lockout = 2 and
auth_lockout_max = 4; every demo user's password is "tvspace".

  guess.py SIP_PORT CTL   the cases below; CTL is a command line that runs
      tvspacectl on the server's control socket.  Prints one line per
      check, "ok: ..." or "FAIL: ...", and exits 1 when any failed.

The guesses never use the password; the script checks that none of their
passwords reaches the log (the shell does)."""
import re
import subprocess
import sys
import time

from sipclient import Client, Dialog, authorization

PORT = int(sys.argv[1])
CTL = sys.argv[2].split()
SERVER = ("127.0.0.1", PORT)
failed = 0


def check(what, cond, got=None):
    global failed
    if cond:
        print("ok: %s" % what)
    else:
        failed = 1
        print("FAIL: %s (got %r)" % (what, got))


def retry_after(r):
    v = r.get("retry-after")
    return int(v) if v.isdigit() else None


class Guesser:
    """A start as USER from ADDR, guessing: one challenge, then wrong
    responses reusing its nonce (nc 1, 2, ...), as the report's 24 guesses
    a second did."""

    def __init__(self, addr, user):
        self.c = Client(SERVER, addr, 0, user)
        self.d = Dialog(self.c, "share", None, "SHA-256")
        self.user = user
        self.nc = 0
        self.chal = None
        self.n = 0

    def fresh(self):
        r = self.d.send("INVITE")
        assert r.status == 401, r
        self.chal = self.d.challenge_of(r)
        self.nc = 0

    def guess(self, fresh=False):
        """One wrong guess (a fresh challenge first when asked); the
        answer."""
        if fresh or not self.chal:
            self.fresh()
        self.nc += 1
        self.n += 1
        auth = authorization(self.chal, "SHA-256", self.user,
                             "guess-%06d" % self.n, "INVITE", self.d.ruri,
                             nc=self.nc)
        return self.d.send("INVITE", auth=auth)


def login(addr, user):
    """The right password, from ADDR: the answer (a 200 is ended)."""
    c = Client(SERVER, addr, 0, user)
    d = Dialog(c, "share", "tvspace", "SHA-256")
    r = d.invite()
    if r.status == 200:
        d.indialog("BYE", "", None)
    c.close()
    return r


def ctl(*args):
    p = subprocess.run(CTL + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


# -- one source guesses alice's password, reusing one nonce ---------------
g = Guesser("127.0.0.6", "alice")
codes = [g.guess().status for _ in range(3)]
check("three wrong guesses reusing one nonce: 403 each", codes == [403] * 3,
      codes)
r = g.guess()
check("the fourth: 503 with Retry-After 2, credentials not looked at",
      r.status == 503 and retry_after(r) == 2 and
      "too many failed authentications" in r.warning(), r)
r = g.guess(fresh=True)
check("with a fresh challenge: 503 too (a nonce reuse counts the same)",
      r.status == 503, r)
other = Guesser("127.0.0.7", "alice")
r = other.guess()
check("from another address: 503 (the count is the user's)",
      r.status == 503, r)
rc, out = ctl("auth-failures")
print(out, end="")
check("tvspacectl auth-failures lists alice: 3 failures, locked",
      rc == 0 and re.search(r"^alice +\* +3 +[12] +\d+ +127\.0\.0\.6$", out,
                            re.M), out)
r = login("127.0.0.8", "alice")
check("alice herself from a new address during the lockout: 503",
      r.status == 503, r)
bob = login("127.0.0.8", "bob")
check("another user is not affected: 200", bob.status == 200, bob)

# -- the lockout grows: 2 s, then 4 s (auth_lockout_max) -----------------
time.sleep(2.2)
r = g.guess()
check("after 2 s a guess is taken again (403), and the lockout doubles",
      r.status == 403, r)
r = g.guess()
check("then 503 with Retry-After 4", r.status == 503 and
      retry_after(r) == 4, r)
time.sleep(4.2)
r = g.guess()
check("after 4 s: 403 again", r.status == 403, r)
r = g.guess()
check("then 503 with Retry-After 4 (auth_lockout_max)",
      r.status == 503 and retry_after(r) == 4, r)

# -- after the lockout the right password works and clears the count ----
time.sleep(4.2)
t0 = time.time()
r = login("127.0.0.8", "alice")
check("after the lockout alice logs in with her password: 200",
      r.status == 200, r)
rc, out = ctl("auth-failures")
check("and her count is cleared", rc == 0 and "alice" not in out, out)

# -- a guesser cannot lock alice out where she logged in before ----------
for _ in range(4):
    g.guess()
r = g.guess()
check("the guesser is locked out again", r.status == 503, r)
r = login("127.0.0.8", "alice")
check("alice, from the address she logged in from, still gets in: 200",
      r.status == 200, r)

# -- the operator clears a lockout ----------------------------------------
h = Guesser("127.0.0.6", "carol")
for _ in range(3):
    h.guess()
r = login("127.0.0.9", "carol")
check("carol locked out by the guesser: 503", r.status == 503, r)
rc, out = ctl("auth-clear", "carol")
check("tvspacectl auth-clear carol", rc == 0 and "carol" in out, out)
r = login("127.0.0.9", "carol")
check("carol logs in at once: 200", r.status == 200, r)
rc, out = ctl("auth-clear", "carol")
check("clearing again: refused, nothing to clear", rc == 1, out)

print("guesses sent: %d" % (g.n + other.n + h.n))
sys.exit(failed)
