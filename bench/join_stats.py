#!/usr/bin/env python3
"""bench/join.sh's arithmetic.

join_stats.py DIR NAME RATE RC [CPU_MS COMMITTED PG_CPU_MS SHED]   one step: SIPp's
    statistics and the INVITE-to-200 times bench_join.xml logged in DIR,
    the server's CPU per call and (tvspace) the joins/leaves committed ->
    one line of the table.
join_stats.py --clean LINE       exit 0 when that line of the table is clean
join_stats.py --summary FILE     the highest clean rate of each target (no
    failed call, p99 under 50 ms, every join and leave committed), and
    tvspace's as a share of each peer's."""
import csv
import glob
import sys


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(p / 100.0 * len(v)))]


def step(d, name, rate, rc, cpu="-", committed="-", pg_cpu="-", shed="-"):
    ok = failed = 0
    elapsed = None
    stat = glob.glob(d + "/*_.csv") + glob.glob(d + "/*_[0-9]*_.csv")
    for f in stat:
        rows = list(csv.reader(open(f), delimiter=";"))
        if len(rows) < 2:
            continue
        head, last = rows[0], rows[-1]
        col = {h: i for i, h in enumerate(head)}
        ok = int(last[col["SuccessfulCall(C)"]])
        failed = int(last[col["FailedCall(C)"]])
        elapsed = last[col["ElapsedTime(C)"]]
    times = []
    for f in glob.glob(d + "/*_logs.log"):
        for line in open(f):
            w = line.split()
            if len(w) == 5 and w[0] == "join":
                s0, u0, s1, u1 = (float(x) for x in w[1:])
                times.append((s1 - s0) * 1000 + (u1 - u0) / 1000)
    # the rate reached: calls over the time the calls took to be placed
    secs = None
    if elapsed:
        h, m, s = elapsed.split(":")
        secs = int(h) * 3600 + int(m) * 60 + float(s.split(":")[0])
    reached = ok / max(secs - 1.0, 0.001) if secs else 0
    print("%-9s %6s %8d %6d %9.0f %8.2f %8.2f %8s %11s %9s %9s" % (
        name, rate, ok, failed, reached, pct(times, 50), pct(times, 99),
        cpu, committed, pg_cpu, shed))


def clean(f):
    """A step with no failed call, p99 under 50 ms and, where counted,
    every join and leave committed."""
    ok, failed, p99 = int(f[2]), int(f[3]), float(f[6])
    if failed or not ok or not p99 < 50.0:
        return False
    if len(f) > 8 and f[8] != "-":
        joined, left = (int(x) for x in f[8].split("/"))
        return joined >= ok and left >= ok
    return True


def summary(path):
    """The most joins a second each target took cleanly (the rate reached,
    not the rate offered: a target that falls behind is seen), with its
    INVITE-to-200 times and CPU per call at that step, and the first rate
    at which it failed."""
    best, fail = {}, {}
    for line in open(path):
        f = line.split()
        if len(f) < 7 or f[0] == "target":
            continue
        name, reached = f[0], float(f[4])
        if clean(f):
            if reached > best.get(name, (0,))[0]:
                best[name] = (reached, float(f[5]), float(f[6]),
                              f[7] if len(f) > 7 else "-")
        elif name not in fail:
            fail[name] = "%s/s offered: %s ok, %s failed, p99 %s ms" % (
                f[1], f[2], f[3], f[6])
    for name in ("tvspace", "sipp-uas", "kamailio", "nua-uas"):
        if name in best:
            print("%-9s clean rate (0 failed, p99 < 50 ms, all committed): "
                  "%.0f/s (p50 %.2f ms, p99 %.2f ms, CPU %s ms a call)"
                  % ((name,) + best[name]))
        else:
            print("%-9s no clean rate" % name)
        print("%-9s first rate not clean: %s" % (
            name, fail.get(name, "none up to the highest rate offered")))
    tv = best.get("tvspace", (0,))[0]
    for peer in ("sipp-uas", "kamailio", "nua-uas"):
        if peer in best and best[peer][0]:
            print("tvspace / %s: %.2f" % (peer, tv / best[peer][0]))


if __name__ == "__main__":
    if sys.argv[1] == "--clean":
        sys.exit(0 if clean(sys.argv[2].split()) else 1)
    if sys.argv[1] == "--summary":
        summary(sys.argv[2])
    else:
        step(*sys.argv[1:9])
