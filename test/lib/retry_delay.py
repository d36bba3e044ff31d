#!/usr/bin/env python3
"""The delay between a party's 491 to a re-INVITE and the re-INVITE sent
again, from its SIPp message trace (-trace_msg): RFC 3261 §14.1 wants 2.1
to 4 s when the server owns the dialog's Call-ID, 0 to 2 s otherwise.

Usage: retry_delay.py TRACE.msg MARK LOW HIGH
A re-INVITE is one whose text holds MARK (the new channel's group).
Exits 0 when the delay is within [LOW, HIGH] seconds."""
import re
import sys
from datetime import datetime


def main():
    path, mark, low, high = sys.argv[1], sys.argv[2], float(sys.argv[3]), \
        float(sys.argv[4])
    text = open(path, encoding="utf-8", errors="replace").read()
    stamp = r"-{10,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)"
    events = []
    for m in re.finditer(stamp + r"\n(.*?)(?=\n-{10,} \d{4}|\Z)", text,
                         re.S):
        t = datetime.strptime(m.group(1)[:26], "%Y-%m-%d %H:%M:%S.%f")
        body = m.group(2)
        if "SIP/2.0 491" in body:
            events.append(("491", t))
        elif re.search(r"^INVITE sip:", body, re.M) and mark in body:
            events.append(("invite", t))
    sent = [t for e, t in events if e == "491"]
    after = [t for e, t in events if e == "invite" and sent and t > sent[0]]
    delay = (after[0] - sent[0]).total_seconds() if after else None
    print("491 sent, re-INVITE again after", delay, "s")
    sys.exit(0 if delay is not None and low <= delay <= high else 1)


if __name__ == "__main__":
    main()
