#!/usr/bin/env python3
"""Conference subscribers for bench/notify.sh: N users (PREFIX1..PREFIXN,
members of the space) SUBSCRIBE to sip:TARGET over one TCP connection,
and every NOTIFY that comes back (on any connection tvspaced opens to
LISTEN_PORT) is answered 200 and counted: the bytes of the whole SIP
message as it arrived, its body's state (full, partial, deleted) and its
version, which must be the subscription's last plus one.

TCP, not UDP: a full document of a space of 1,000 members is some 200 KB,
more than a datagram holds (and more than SIPp takes in one message), so
the subscribers are this script rather than SIPp; the members and joiners
of the benchmark are SIPp.

Commands on stdin, one a line; each answers one line on stdout:
  subscribe    subscribe everyone, wait for each one's first NOTIFY:
               "subscribed N"
  mark NAME    the counts since the last mark: "NAME notifies=N bytes=B
               full=F partial=P deleted=D gaps=G full_bytes=FB" (FB: the
               bytes of the full ones)
  quiet MS     wait until no NOTIFY came for MS ms: "quiet"
  quit
Usage: notify_subs.py SERVER_PORT LISTEN_PORT TARGET PREFIX N"""
import os
import re
import selectors
import socket
import sys
import time

SERVER = ("127.0.0.1", int(sys.argv[1]))
LISTEN = int(sys.argv[2])
TARGET = sys.argv[3]
PREFIX = sys.argv[4]
N = int(sys.argv[5])
WINDOW = 20  # SUBSCRIBEs outstanding at once

sel = selectors.DefaultSelector()
bufs = {}
counts = dict(notifies=0, bytes=0, full=0, partial=0, deleted=0, gaps=0,
              full_bytes=0)
versions = {}  # Call-ID -> last version
first_notify = set()  # Call-IDs that had their first NOTIFY
answered = set()  # Call-IDs whose SUBSCRIBE got its 200
last_notify = time.time()

CL = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(\d+)", re.I | re.M)
CALLID = re.compile(rb"^(?:call-id|i)[ \t]*:[ \t]*(\S+)", re.I | re.M)
STATE = re.compile(rb'<conference-info[^>]*\sstate="(\w+)"')
VERSION = re.compile(rb'<conference-info[^>]*\sversion="(\d+)"')


def header_lines(head, names):
    out = []
    for line in head.split(b"\r\n")[1:]:
        name = line.split(b":", 1)[0].strip().lower()
        if name in names:
            out.append(line)
    return out


def on_message(sock, head, body, size):
    global last_notify
    first = head.split(b"\r\n", 1)[0]
    cid = CALLID.search(head)
    cid = cid.group(1) if cid else b""
    if first.startswith(b"SIP/2.0 "):
        if first.startswith(b"SIP/2.0 2"):
            answered.add(cid)
        elif not first.startswith(b"SIP/2.0 1"):
            sys.stderr.write("SUBSCRIBE answered %s\n" % first.decode())
        return
    if not first.startswith(b"NOTIFY "):
        return
    # 200 OK, on the connection it came on.
    resp = [b"SIP/2.0 200 OK"] + header_lines(
        head, (b"via", b"v", b"from", b"f", b"to", b"t", b"call-id", b"i",
               b"cseq")) + [b"Content-Length: 0", b"", b""]
    sock.setblocking(True)
    sock.sendall(b"\r\n".join(resp))
    sock.setblocking(False)
    last_notify = time.time()
    counts["notifies"] += 1
    counts["bytes"] += size
    st = STATE.search(body)
    st = st.group(1).decode() if st else "none"
    if st in counts:
        counts[st] += 1
    if st == "full":
        counts["full_bytes"] += size
    v = VERSION.search(body)
    v = int(v.group(1)) if v else 0
    if st == "partial" and versions.get(cid, -1) + 1 != v:
        counts["gaps"] += 1
    versions[cid] = v
    first_notify.add(cid)


def read(sock):
    data = sock.recv(1 << 20)
    if not data:
        sel.unregister(sock)
        sock.close()
        bufs.pop(sock, None)
        return
    buf = bufs[sock]
    buf += data
    while True:
        while buf[:2] == b"\r\n":  # keep-alives
            del buf[:2]
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(buf[:end])
        m = CL.search(head)
        length = int(m.group(1)) if m else 0
        total = end + 4 + length
        if len(buf) < total:
            return
        body = bytes(buf[end + 4:total])
        del buf[:total]
        on_message(sock, head, body, total)


def accept(lsock):
    s, _ = lsock.accept()
    s.setblocking(False)
    bufs[s] = bytearray()
    sel.register(s, selectors.EVENT_READ, read)


def pump(timeout):
    for key, _ in sel.select(timeout):
        if key.data == "stdin":
            continue
        key.data(key.fileobj)


lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsock.bind(("127.0.0.1", LISTEN))
lsock.listen(64)
lsock.setblocking(False)
sel.register(lsock, selectors.EVENT_READ, accept)
conn = socket.create_connection(SERVER)
conn.setblocking(False)
bufs[conn] = bytearray()
sel.register(conn, selectors.EVENT_READ, read)


def subscribe(i):
    user = "%s%d" % (PREFIX, i)
    cid = "%s-%d-%s@127.0.0.1" % (user, os.getpid(), os.urandom(4).hex())
    msg = ("SUBSCRIBE sip:%s@127.0.0.1:%d SIP/2.0\r\n"
           "Via: SIP/2.0/TCP 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n"
           "From: <sip:%s@127.0.0.1>;tag=%s\r\n"
           "To: <sip:%s@127.0.0.1:%d>\r\n"
           "Call-ID: %s\r\n"
           "CSeq: 1 SUBSCRIBE\r\n"
           "Contact: <sip:%s@127.0.0.1:%d;transport=tcp>\r\n"
           "Max-Forwards: 70\r\n"
           "Event: conference\r\n"
           "Accept: application/conference-info+xml\r\n"
           "Expires: 3600\r\n"
           "Content-Length: 0\r\n\r\n"
           % (TARGET, SERVER[1], LISTEN, os.urandom(6).hex(), user,
              os.urandom(4).hex(), TARGET, SERVER[1], cid, user, LISTEN))
    conn.setblocking(True)
    conn.sendall(msg.encode())
    conn.setblocking(False)
    return cid.encode()


def do_subscribe():
    pending = []
    i = 1
    deadline = time.time() + 600
    while (i <= N or pending) and time.time() < deadline:
        while i <= N and len(pending) < WINDOW:
            pending.append(subscribe(i))
            i += 1
        pump(0.05)
        pending = [c for c in pending if c not in first_notify]
    return len(first_notify)


mark = dict(counts)
stdin = os.fdopen(sys.stdin.fileno(), "rb", buffering=0)
sel.register(stdin, selectors.EVENT_READ, "stdin")
pending_in = b""
running = True
while running:
    # Answer NOTIFYs while waiting for the next command.
    ready = sel.select(1.0)
    for key, _ in ready:
        if key.data != "stdin":
            key.data(key.fileobj)
            continue
        data = stdin.read(4096)
        if not data:
            running = False
            break
        pending_in += data
    while running and b"\n" in pending_in:
        line, pending_in = pending_in.split(b"\n", 1)
        words = line.decode().split()
        if not words:
            continue
        if words[0] == "subscribe":
            print("subscribed %d" % do_subscribe(), flush=True)
        elif words[0] == "mark":
            d = {k: counts[k] - mark[k] for k in counts}
            mark = dict(counts)
            print("%s %s" % (words[1], " ".join(
                "%s=%d" % (k, d[k]) for k in ("notifies", "bytes", "full",
                                              "partial", "deleted",
                                              "gaps", "full_bytes"))),
                  flush=True)
        elif words[0] == "quiet":
            while time.time() - last_notify < int(words[1]) / 1000.0:
                pump(0.05)
            print("quiet", flush=True)
        elif words[0] == "quit":
            running = False
