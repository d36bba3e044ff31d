#!/usr/bin/env python3
"""One party of an end-to-end test over UDP (Python standard library only):
its INVITE dialog with the server, requests inside it, a CANCEL, and the
requests the server sends it, answered as the test says (a re-INVITE with
200 and an SDP answer, or refused with a status) and recorded with the
time they came.  Several parties poll together with pump().  Built on
sipclient.py's request and response helpers.

    from sipparty import Party, sdp, pump
    alice = Party(5070, "alice")
    r = alice.invite("share", sdp(group="232.10.0.2"))

A test's own checks and its reads of the store: Checks and sql_on().
"""
import re
import select
import subprocess
import time

from sipclient import Client, Response, rand, DOMAIN


def sdp(media="video", pts=(33,), group="232.10.0.1", addr="127.0.0.1",
        port=5004, version=1):
    """A multicast offer (or answer) for @a group."""
    rtpmap = {0: "PCMU/8000", 8: "PCMA/8000", 33: "MP2T/90000"}
    lines = ["v=0", "o=- 1 %d IN IP4 %s" % (version, addr), "s=-",
             "c=IN IP4 %s/16" % group, "t=0 0",
             "m=%s %d RTP/AVP %s" % (media, port,
                                     " ".join(str(p) for p in pts))]
    lines += ["a=rtpmap:%d %s" % (p, rtpmap[p]) for p in pts if p in rtpmap]
    lines.append("a=recvonly")
    return "\r\n".join(lines) + "\r\n"


class Party:
    def __init__(self, server_port, user, addr="127.0.0.1", port=0):
        self.c = Client(("127.0.0.1", server_port), addr, port, user)
        self.user = user
        self.call_id = rand() + "@" + addr
        self.tag = rand(4)
        self.to_tag = ""
        self.remote = None  # the server's Contact: where in-dialog goes
        self.ruri = None
        self.to_uri = None
        self.invite_branch = None
        self.invite_cseq = None
        self.invite_final = None
        self.invite_final_at = None
        self.invite_sent_at = None
        self.provisional = []
        self.n_ok = 0  # 2xx answers to our INVITE, retransmissions too
        # how re-INVITEs are answered: 200 with self.answer_sdp, or a
        # status (488, 481, ...); None leaves them unanswered
        self.reinvite_status = 200
        self.answer_sdp = sdp()
        # the answer our ACK carries when our INVITE had no offer (the
        # server offered in its 200, RFC 3264 §5)
        self.ack_sdp = None
        self.got = []  # (time, Response) of every request from the server
        self.finals = {}  # branch -> final Response of our requests

    def fileno(self):
        return self.c.sock.fileno()

    # -- what the server sends us --------------------------------------------

    def _answer(self, r, status, phrase, body=None, ctype=None):
        lines = ["SIP/2.0 %d %s" % (status, phrase)]
        lines += ["Via: %s" % v for v in r.all("via")]
        to = r.get("to")
        if "tag=" not in to:
            to += ";tag=" + self.tag
        lines += ["From: %s" % r.get("from"), "To: %s" % to,
                  "Call-ID: %s" % r.get("call-id"),
                  "CSeq: %s" % r.get("cseq"),
                  "Contact: <sip:%s@%s:%d>" % (self.user, self.c.addr,
                                               self.c.port)]
        if body:
            lines.append("Content-Type: %s" % ctype)
        lines.append("Content-Length: %d" % len((body or "").encode()))
        self.c.send("\r\n".join(lines) + "\r\n\r\n" + (body or ""))

    def _request_in(self, r):
        self.got.append((time.time(), r))
        if r.request == "ACK":
            return
        if r.request == "INVITE":
            if self.reinvite_status is None:
                return
            if self.reinvite_status == 200:
                self._answer(r, 200, "OK", self.answer_sdp,
                             "application/sdp")
            else:
                self._answer(r, self.reinvite_status, "Refused")
            return
        self._answer(r, 200, "OK")

    def handle(self, r):
        """One message off our socket."""
        if r.request:
            self._request_in(r)
            return
        m = re.search(r"branch=([^;,\s]+)", r.get("via"))
        branch = m.group(1) if m else ""
        if branch == self.invite_branch and "INVITE" in r.get("cseq"):
            if r.status < 200:
                self.provisional.append(r.status)
                return
            if r.status < 300:
                self.n_ok += 1
            if self.invite_final is None:
                self.invite_final = r
                self.invite_final_at = time.time()
                self._ack(r)
            elif r.status < 300:
                self._ack(r)  # a 200 again: our ACK was lost
            return
        if r.status >= 200:
            self.finals[branch] = r

    def poll(self, timeout):
        r = self.c.receive(max(0.001, timeout))
        if r is not None:
            self.handle(r)
        return r

    def requests(self, method):
        return [(t, r) for t, r in self.got if r.request == method]

    def messages(self):
        return [r.body for t, r in self.requests("MESSAGE")]

    # -- what we send ----------------------------------------------------------

    def _ack(self, r):
        to_tag = re.search(r"tag=([^;>\s]+)", r.get("to"))
        ok = r.status < 300
        if ok:
            self.to_tag = to_tag.group(1)
            contact = re.search(r"<([^>]+)>", r.get("contact"))
            self.remote = contact.group(1) if contact else self.ruri
        body = self.ack_sdp if ok and self.ack_sdp else ""
        text, _ = self.c.request(
            "ACK", self.remote if ok else self.ruri, self.to_uri,
            self.call_id, self.tag, to_tag.group(1) if to_tag else "",
            cseq=self.invite_cseq,
            branch=None if ok else self.invite_branch, body=body,
            ctype="application/sdp" if body else None)
        self.c.send(text)

    def send_invite(self, target, body, extra=()):
        """Send our INVITE; its answers come through poll()."""
        self.ruri = "sip:%s@%s:%d" % (target, self.c.server[0],
                                      self.c.server[1])
        self.to_uri = "sip:%s@%s" % (target, DOMAIN)
        text, self.invite_branch = self.c.request(
            "INVITE", self.ruri, self.to_uri, self.call_id, self.tag,
            headers=list(extra), body=body,
            ctype="application/sdp" if body else None)
        self.invite_cseq = int(re.search(r"CSeq: (\d+)", text).group(1))
        self.invite_text = text
        self.invite_sent_at = time.time()
        self.c.send(text)

    def wait(self, cond, timeout, what="a condition"):
        """Poll until cond() holds; the INVITE is sent again every 0.5 s
        while nothing at all answered it (UDP, RFC 3261 §17.1.1.2)."""
        end = time.time() + timeout
        while not cond():
            if time.time() >= end:
                raise TimeoutError("%s: %s" % (self.user, what))
            if (self.invite_branch and not self.provisional and
                    self.invite_final is None and
                    time.time() - self.invite_sent_at > 0.5):
                self.c.send(self.invite_text)
                self.invite_sent_at = time.time()
            self.poll(min(0.05, end - time.time()))

    def invite(self, target, body, extra=(), timeout=5.0):
        self.send_invite(target, body, extra)
        self.wait(lambda: self.invite_final is not None, timeout,
                  "final answer to the INVITE")
        return self.invite_final

    def cancel(self):
        """CANCEL our INVITE (RFC 3261 §9.1): its Via, its CSeq number."""
        text, branch = self.c.request(
            "CANCEL", self.ruri, self.to_uri, self.call_id, self.tag,
            cseq=self.invite_cseq, branch=self.invite_branch)
        self.c.send(text)
        return branch

    def cancel_answer(self, timeout=5.0):
        """The final answer to our CANCEL (it shares the INVITE's
        branch)."""
        self.wait(lambda: self.invite_branch in self.finals, timeout,
                  "answer to the CANCEL")
        return self.finals[self.invite_branch]

    def request(self, method, body="", ctype="text/plain", timeout=5.0):
        """A request inside our dialog; its final answer."""
        text, branch = self.c.request(
            method, self.remote, self.to_uri, self.call_id, self.tag,
            self.to_tag, body=body, ctype=ctype if body else None)
        sent = time.time()
        self.c.send(text)
        end = sent + timeout
        while branch not in self.finals:
            if time.time() >= end:
                raise TimeoutError("%s: no answer to %s" % (self.user,
                                                            method))
            if time.time() - sent > 0.5:
                self.c.send(text)
                sent = time.time()
            self.poll(0.05)
        return self.finals.pop(branch)

    def message(self, text, **kw):
        return self.request("MESSAGE", text, **kw)

    def bye(self, **kw):
        return self.request("BYE", **kw)


def pump(parties, seconds):
    """Poll every party for @a seconds: requests are answered, answers
    kept."""
    end = time.time() + seconds
    while True:
        left = end - time.time()
        if left <= 0:
            return
        ready, _, _ = select.select(parties, [], [], left)
        for p in ready:
            p.poll(0)


def sql_on(conn):
    """A function that runs one SQL statement on the database @a conn
    (psql) and returns its output, stripped."""
    def sql(q):
        return subprocess.run(["psql", conn, "-XAtqc", q], check=True,
                              capture_output=True, text=True).stdout.strip()
    return sql


class Checks:
    """The test's checks: each printed "ok: WHAT" or "FAIL: WHAT"; ok
    stays true while every one held."""

    def __init__(self):
        self.ok = True

    def __call__(self, what, cond):
        print(("ok: " if cond else "FAIL: ") + what)
        self.ok = self.ok and bool(cond)
        return cond
