#!/usr/bin/env python3
"""A small SIP user agent client over UDP for the end-to-end tests (Python
standard library only): requests outside and inside a dialog, the ACKs of
RFC 3261 §17.1.1.3 and §13.2.2.4, retransmission on silence, and digest
authentication with SHA-256 or MD5 (RFC 7616, RFC 8760) -- what SIPp's
[authentication] cannot do (it knows MD5 only).

Imported by the tests' own scripts (test/e2e/*.py), or run as
    sipclient.py SERVER_PORT LOCAL_ADDR LOCAL_PORT
to print the server's answer to an OPTIONS."""
import hashlib
import os
import re
import socket
import sys
import time

DOMAIN = "tvspace.test"

SDP = """v=0
o=- 1 1 IN IP4 {addr}
s=-
c=IN IP4 232.10.0.1/16
t=0 0
m=video 5004 RTP/AVP 33
a=rtpmap:33 MP2T/90000
a=recvonly
"""


def rand(n=8):
    return os.urandom(n).hex()


class Response:
    def __init__(self, text):
        head, _, self.body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        m = re.match(r"SIP/2\.0 (\d{3}) ?(.*)", lines[0])
        self.request = None if m else lines[0].split(" ")[0]
        self.status = int(m.group(1)) if m else 0
        self.phrase = m.group(2) if m else ""
        self.headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.append((name.strip().lower(), value.strip()))
        self.first_line = lines[0]

    def all(self, name):
        return [v for n, v in self.headers if n == name.lower()]

    def get(self, name, default=""):
        v = self.all(name)
        return v[0] if v else default

    def warning(self):
        return self.get("warning")

    def __repr__(self):
        return "%d %s [%s]" % (self.status, self.phrase, self.warning())


def parse_challenge(value):
    """The parameters of one WWW-Authenticate: Digest value."""
    scheme, _, rest = value.partition(" ")
    params = {}
    for m in re.finditer(r'([a-zA-Z]+)=("([^"]*)"|[^,\s]+)', rest):
        params[m.group(1).lower()] = (m.group(3) if m.group(3) is not None
                                      else m.group(2))
    params["scheme"] = scheme
    return params


def digest(alg, user, password, realm, method, uri, nonce, nc, cnonce):
    h = (lambda s: hashlib.sha256(s.encode()).hexdigest()) \
        if alg == "SHA-256" else (lambda s: hashlib.md5(s.encode()).hexdigest())
    ha1 = h("%s:%s:%s" % (user, realm, password))
    ha2 = h("%s:%s" % (method, uri))
    return h("%s:%s:%08x:%s:auth:%s" % (ha1, nonce, nc, cnonce, ha2))


def authorization(chal, alg, user, password, method, uri, nc=1, cnonce=None):
    cnonce = cnonce or rand()
    resp = digest(alg, user, password, chal["realm"], method, uri,
                  chal["nonce"], nc, cnonce)
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", '
            'response="%s", algorithm=%s, qop=auth, nc=%08x, cnonce="%s"'
            % (user, chal["realm"], chal["nonce"], uri, resp, alg, nc,
               cnonce))


class Client:
    """One party: a socket bound to (addr, port), talking to the server."""

    def __init__(self, server, addr="127.0.0.1", port=0, user="alice"):
        self.server = server
        self.addr = addr
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, port))
        self.port = self.sock.getsockname()[1]
        self.user = user
        self.cseq = 0

    def close(self):
        self.sock.close()

    def request(self, method, ruri, to_uri=None, call_id=None, from_tag=None,
                to_tag="", headers=(), body="", ctype=None, cseq=None,
                branch=None):
        """Send a request; returns (message text, branch)."""
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        branch = branch or "z9hG4bK" + rand()
        lines = ["%s %s SIP/2.0" % (method, ruri),
                 "Via: SIP/2.0/UDP %s:%d;branch=%s;rport"
                 % (self.addr, self.port, branch),
                 "From: <sip:%s@%s>;tag=%s" % (self.user, DOMAIN, from_tag),
                 "To: <%s>%s" % (to_uri or ruri,
                                 ";tag=" + to_tag if to_tag else ""),
                 "Call-ID: %s" % call_id,
                 "CSeq: %d %s" % (cseq, method),
                 "Contact: <sip:%s@%s:%d>" % (self.user, self.addr,
                                              self.port),
                 "Max-Forwards: 70"]
        lines += list(headers)
        if body:
            lines.append("Content-Type: %s" % ctype)
        lines.append("Content-Length: %d" % len(body.encode()))
        text = "\r\n".join(lines) + "\r\n\r\n" + body
        return text, branch

    def send(self, text):
        self.sock.sendto(text.encode(), self.server)

    def receive(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data, _ = self.sock.recvfrom(65535)
        except socket.timeout:
            return None
        return Response(data.decode(errors="replace"))

    def answer_request(self, r):
        """200 to a request from the server (a MESSAGE, a NOTIFY)."""
        if r.request == "ACK":
            return
        lines = ["SIP/2.0 200 OK"]
        lines += ["Via: %s" % v for v in r.all("via")]
        for h in ("from", "to", "call-id", "cseq"):
            lines.append("%s: %s" % (h, r.get(h)))
        lines.append("Content-Length: 0")
        self.send("\r\n".join(lines) + "\r\n\r\n")

    def transact(self, text, branch, timeout=5.0):
        """Send and wait for the final response of our transaction
        (retransmitted every 0.5 s while nothing comes back)."""
        self.send(text)
        end = time.time() + timeout
        next_retx = time.time() + 0.5
        heard = False
        while time.time() < end:
            r = self.receive(max(0.01, min(next_retx, end) - time.time()))
            if r is None:
                if not heard and time.time() >= next_retx:
                    self.send(text)
                    next_retx = time.time() + 0.5
                continue
            if r.request:
                self.answer_request(r)
                continue
            if branch not in r.get("via"):
                continue
            heard = True
            if r.status >= 200:
                return r
        raise TimeoutError("no final response to " + text.split(" ")[0])


class Dialog:
    """A dialog we start with an INVITE (or the request outside one)."""

    def __init__(self, client, target, password=None, alg="SHA-256",
                 headers=()):
        self.c = client
        self.ruri = "sip:%s@%s:%d" % (target, client.server[0],
                                      client.server[1])
        self.to_uri = "sip:%s@%s" % (target, DOMAIN)
        self.call_id = rand() + "@" + client.addr
        self.tag = rand(4)
        self.password = password
        self.alg = alg
        self.headers = list(headers)
        self.to_tag = ""
        self.remote = None
        self.challenges = []

    def _ack(self, r, cseq, branch, ok):
        to_tag = re.search(r"tag=([^;>\s]+)", r.get("to"))
        text, _ = self.c.request(
            "ACK", self.remote if ok else self.ruri, self.to_uri,
            self.call_id, self.tag, to_tag.group(1) if to_tag else "",
            cseq=cseq, branch=None if ok else branch)
        self.c.send(text)

    def send(self, method, body="", ctype=None, extra=(), cseq=None,
             auth=None):
        """One request outside the dialog (before it exists): returns the
        final response; an INVITE's is ACKed."""
        text, branch = self.c.request(
            method, self.ruri, self.to_uri, self.call_id, self.tag,
            headers=self.headers + list(extra) +
            (["Authorization: " + auth] if auth else []),
            body=body, ctype=ctype, cseq=cseq)
        self.last_cseq = int(re.search(r"CSeq: (\d+)", text).group(1))
        self.last_text = text
        r = self.c.transact(text, branch)
        if method == "INVITE":
            contact = re.search(r"<([^>]+)>", r.get("contact"))
            if r.status < 300:
                self.remote = contact.group(1) if contact else self.ruri
                self.to_tag = re.search(r"tag=([^;>\s]+)",
                                        r.get("to")).group(1)
            self._ack(r, self.last_cseq, branch, r.status < 300)
        return r

    def challenge_of(self, r, alg=None):
        for v in r.all("www-authenticate"):
            p = parse_challenge(v)
            if p.get("algorithm", "MD5").upper() == (alg or self.alg):
                return p
        raise ValueError("no %s challenge in %r" % (alg or self.alg, r))

    def send_auth(self, method, body="", ctype=None, user=None,
                  password=None, alg=None):
        """The request, then again with credentials for its challenge."""
        r = self.send(method, body, ctype)
        if r.status != 401:
            return r
        self.challenges.append(r)
        chal = self.challenge_of(r, alg)
        auth = authorization(chal, alg or self.alg, user or self.c.user,
                             password or self.password, method, self.ruri)
        self.last_auth = auth
        return self.send(method, body, ctype, auth=auth)

    def indialog(self, method, body="", ctype="text/plain"):
        text, branch = self.c.request(
            method, self.remote, self.to_uri, self.call_id, self.tag,
            self.to_tag, body=body, ctype=ctype)
        return self.c.transact(text, branch)

    def invite(self, **kw):
        return self.send_auth("INVITE", SDP.format(addr=self.c.addr),
                              "application/sdp", **kw)


def main():
    server = ("127.0.0.1", int(sys.argv[1]))
    c = Client(server, sys.argv[2], int(sys.argv[3]))
    d = Dialog(c, "share")
    print(d.send("OPTIONS"))


if __name__ == "__main__":
    main()
