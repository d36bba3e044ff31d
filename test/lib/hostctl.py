#!/usr/bin/env python3
"""A host (or any member) of a space that a shell script drives line by
line, for the tests of real softphones: the script writes commands to its
standard input (a FIFO) and reads what happened from its standard output,
one timestamped line per event, flushed at once.  Between commands it keeps
answering what the server sends: re-INVITEs get 200 with an answer that
takes the offer's group and payload types (a multicast member's; after a
restart the server re-offers the channel of the moment), MESSAGEs and BYE
get 200.

    hostctl.py SERVER_PORT USER

Commands:
    start GROUP [PT...]   INVITE sip:share with a multicast audio offer
                          (PCMU 0 unless PTs are given)
    join SPACE GROUP      INVITE sip:SPACE the same way
    allow                 wait for the next join or grab request N, and
                          /allow N
    send TEXT             MESSAGE TEXT in the dialog
    bye                   BYE
    quit                  exit (0 when every command got a 2xx)
Every command prints "done COMMAND STATUS"; what the server sends prints
"got METHOD" with the c= of an INVITE or the text of a MESSAGE, and the
Reason of a BYE.  Standard library only."""
import os
import re
import select
import sys
import time

from sipparty import Party, sdp


def say(*words):
    t = time.time()
    print("%s.%03d %s" % (time.strftime("%H:%M:%S", time.localtime(t)),
                          int(t * 1000) % 1000, " ".join(str(w) for w in
                                                         words)), flush=True)


class Member(Party):
    def _request_in(self, r):
        if r.request == "INVITE":
            c = re.search(r"^c=IN IP4 ([0-9.]+)", r.body, re.M)
            m = re.search(r"^m=(\w+) \d+ RTP/AVP ([0-9 ]+)", r.body, re.M)
            if c and m:
                self.answer_sdp = sdp(media=m.group(1),
                                      pts=[int(p) for p in m.group(2).split()],
                                      group=c.group(1))
            say("got INVITE", c.group(1) if c else "-")
        elif r.request == "MESSAGE":
            say("got MESSAGE", r.body.strip())
        elif r.request == "BYE":
            say("got BYE", r.get("reason"))
        elif r.request != "ACK":
            say("got", r.request)
        super()._request_in(r)


def offer(group, pts):
    return sdp(media="audio", pts=pts or (0,), group=group)


def main():
    port, user = int(sys.argv[1]), sys.argv[2]
    p = Member(port, user)
    ok = True
    answered = 0
    pending = b""
    lines = []
    eof = False
    while True:
        if not lines:
            if eof:
                break
            ready, _, _ = select.select([0, p], [], [], 1.0)
            if p in ready:
                p.poll(0)
            if 0 not in ready:
                continue
            chunk = os.read(0, 4096)
            eof = not chunk
            pending += chunk
            *done, pending = pending.split(b"\n")
            lines += [d.decode().strip() for d in done]
            continue
        buf = lines.pop(0)
        if not buf:
            continue
        word, _, rest = buf.partition(" ")
        try:
            if word == "start" or word == "join":
                args = rest.split()
                target = "share" if word == "start" else args.pop(0)
                r = p.invite(target, offer(args[0],
                                           [int(a) for a in args[1:]]),
                             timeout=60)
                st = r.status
            elif word == "allow":
                # the requests in the order they came; their numbers
                # start again at 1 after a restart
                def waiting():
                    return re.findall(r"(?:join|grab) request (\d+) from",
                                      "\n".join(p.messages()))[answered:]
                p.wait(waiting, 30, "a join or grab request")
                n = waiting()[0]
                answered += 1
                st = p.message("/allow " + n).status
            elif word == "send":
                st = p.message(rest).status
            elif word == "bye":
                st = p.bye().status
            elif word == "quit":
                break
            else:
                st = "unknown-command"
        except TimeoutError as e:
            st = "timeout(%s)" % e
        say("done", buf, st)
        ok = ok and isinstance(st, int) and 200 <= st < 300
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
