#!/usr/bin/env python3
"""Samples, every 20 ms until SIGTERM, what bench/switch.sh reads after the
switch: the datagrams the kernel dropped at one UDP port's socket (the last
column of /proc/net/udp), and the CPU of tvspaced and of the guests' SIPp.
One process reading /proc: the shell loops it replaces forked six programs
every 50 ms, a sixth of a core on a 2-core machine taken from the
processes measured.

Usage: switch_sample.py TV_PID SIPP_PID PORT DROPS CPU
DROPS gets "time dropped" lines; CPU "time tv_ticks sipp_ticks idle_ticks
tv_run_ns tv_wait_ns tv_slices sipp_run_ns sipp_wait_ns sipp_slices"
(utime + stime of /proc/PID/stat in clock ticks, idle + iowait of
/proc/stat, /proc/PID/schedstat)."""
import signal
import sys
import time


def ticks(pid):
    with open("/proc/%s/stat" % pid) as f:
        # the command may hold spaces: fields count from after its ")"
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])


def sched(pid):
    with open("/proc/%s/schedstat" % pid) as f:
        return f.read().strip()


def idle():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu "):
                p = line.split()
                return int(p[4]) + int(p[5])
    return 0


def dropped(port_hex):
    with open("/proc/net/udp") as f:
        for line in f:
            p = line.split()
            if len(p) > 2 and p[1].endswith(":" + port_hex):
                return p[-1]
    return None


def main():
    tv, sipp, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    port_hex = "%04X" % port
    with open(sys.argv[4], "w") as drops, open(sys.argv[5], "w") as cpu:
        while not stop:
            t = time.time()
            try:
                d = dropped(port_hex)
                if d is not None:
                    drops.write("%.6f %s\n" % (t, d))
                cpu.write("%.6f %d %d %d %s %s\n" % (
                    t, ticks(tv), ticks(sipp), idle(), sched(tv),
                    sched(sipp)))
            except (OSError, IndexError, ValueError):
                pass  # one of them has gone: the run is ending
            try:
                time.sleep(0.02)
            except InterruptedError:
                pass


if __name__ == "__main__":
    main()
