#!/usr/bin/env python3
"""Samples tvspaced's /metrics every 100 ms while a step of
bench/overload.sh runs (OVERLOAD_SAMPLE=1), to see where the admitted
joins' time goes: the database queue (its length and its oldest job), the
loop's lag, how long SIP waits unread, the admission rate.

overload_sample.py URL OUT [SECONDS]
    writes one line per sample to OUT: ms since the start, then
    db_jobs db_oldest_ms loop_lag_ms sip_wait_ms admit_rate joins;
    stops after SECONDS (default 600) or when killed.
overload_sample.py --summary OUT
    prints the p50, p99 and maximum of each column over the samples in
    which the database queue held anything."""
import signal
import sys
import time
import urllib.request

COLS = [("tvspace_db_queue_jobs", 1), ("tvspace_db_queue_oldest_seconds", 1000),
        ("tvspace_loop_lag_seconds", 1000), ("tvspace_sip_wait_seconds", 1000),
        ("tvspace_admit_rate", 1), ("tvspace_joins_total", 1)]
NAMES = ["db_jobs", "db_oldest_ms", "loop_lag_ms", "sip_wait_ms",
         "admit_rate", "joins"]


def sample(url):
    got = {}
    for line in urllib.request.urlopen(url, timeout=1).read().decode().split("\n"):
        w = line.split()
        if len(w) == 2 and not line.startswith("#"):
            got[w[0]] = float(w[1])
    return [got.get(k, float("nan")) * f for k, f in COLS]


def run(url, out, secs):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    t0 = time.monotonic()
    with open(out, "w") as f:
        f.write("ms " + " ".join(NAMES) + "\n")
        while not stop and time.monotonic() - t0 < secs:
            at = time.monotonic()
            try:
                v = sample(url)
            except OSError:
                v = None
            if v:
                f.write("%.0f %s\n" % ((at - t0) * 1000,
                                       " ".join("%.1f" % x for x in v)))
                f.flush()
            time.sleep(max(0, 0.1 - (time.monotonic() - at)))


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100.0 * len(v)))] if v else float("nan")


def summary(out):
    rows = [[float(x) for x in l.split()] for l in list(open(out))[1:]]
    busy = [r for r in rows if r[1] > 0]
    parts = []
    for i, n in enumerate(NAMES[:4], 1):
        v = [r[i] for r in busy]
        parts.append("%s %.0f/%.0f/%.0f" % (n, pct(v, 50), pct(v, 99),
                                             max(v) if v else float("nan")))
    print("  samples %d (%d busy), p50/p99/max: %s" % (len(rows), len(busy),
                                                       ", ".join(parts)))


if __name__ == "__main__":
    if sys.argv[1] == "--summary":
        summary(sys.argv[2])
    else:
        run(sys.argv[1], sys.argv[2],
            float(sys.argv[3]) if len(sys.argv) > 3 else 600)
