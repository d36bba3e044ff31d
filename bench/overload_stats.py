#!/usr/bin/env python3
"""bench/overload.sh's arithmetic: one step -> one line of its table.

overload_stats.py DIR NAME OFFERED SECONDS RC DROPS COMMITTED
    DIR: the SIPp run of bench/overload_join.xml (statistics and logs);
    OFFERED: joins a second offered for SECONDS; DROPS: datagrams the
    kernel dropped at the server's socket over the step; COMMITTED:
    joins/leaves committed (tvspace) or "-".
Prints: name offered admitted refused failed goodput/s adm_p50 adm_p99
    ref_p50 ref_p99 retrans drops committed"""
import csv
import glob
import sys


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(p / 100.0 * len(v)))]


def main():
    d, name, offered, secs, rc, drops, committed = sys.argv[1:8]
    ok = failed = retrans = 0
    for f in glob.glob(d + "/*_.csv") + glob.glob(d + "/*_[0-9]*_.csv"):
        rows = list(csv.reader(open(f), delimiter=";"))
        if len(rows) < 2:
            continue
        col = {h: i for i, h in enumerate(rows[0])}
        last = rows[-1]
        ok = int(last[col["SuccessfulCall(C)"]])
        failed = int(last[col["FailedCall(C)"]])
        retrans = int(last[col["Retransmissions(C)"]])
    admitted, refused = [], []
    for f in glob.glob(d + "/*_logs.log"):
        for line in open(f):
            w = line.split()
            if len(w) == 5 and w[0] in ("join", "refused"):
                s0, u0, s1, u1 = (float(x) for x in w[1:])
                ms = (s1 - s0) * 1000 + (u1 - u0) / 1000
                (admitted if w[0] == "join" else refused).append(ms)
    # goodput: joins admitted over the seconds they were offered in
    goodput = len(admitted) / float(secs)
    print("%-9s %7s %8d %7d %6d %9.0f %8.2f %8.2f %8.2f %8.2f %7d %7s %11s"
          % (name, offered, len(admitted), len(refused), failed, goodput,
             pct(admitted, 50), pct(admitted, 99), pct(refused, 50),
             pct(refused, 99), retrans, drops, committed))


if __name__ == "__main__":
    main()
