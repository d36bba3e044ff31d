#!/usr/bin/env python3
"""Switch times from one benchmark run.

multicast: from the host's "/switch" MESSAGE leaving SIPp to each guest's
200 to the re-INVITE that carries the new channel (both from SIPp's message
traces, one clock).
relay: from the same MESSAGE to the first RTP packet with the marker bit
(the new channel) of each member's SSRC at the receiver.

Usage: switch_times.py multicast HOST.msg GUESTS.msg [DROPS [CPU]]
       switch_times.py relay HOST.msg RTP.log
Prints: members p50_ms p99_ms max_ms [again dropped [tv_cpu sipp_cpu
idle tv_wait sipp_wait tv_ms]]:
again (multicast) is the re-INVITEs the guests received more than once
(retransmissions), dropped the datagrams the kernel dropped at the guests'
socket from the switch on (DROPS: lines of "time count", sampled);
tv_cpu and sipp_cpu what tvspaced and the guests' SIPp used of a core from
the switch to the last member re-pointed, %, and idle the machine's idle
share of all its cores then (CPU: lines of "time tvspaced_ticks
sipp_ticks idle_ticks", sampled, in clock ticks; idle from /proc/stat)."""
import os
import datetime
import sys


def stamps(path):
    """(time, direction, first line) for every message in a SIPp trace."""
    out = []
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("-----") and len(ln.split()) >= 3:
            parts = ln.split()
            t = datetime.datetime.strptime(parts[1] + " " + parts[2],
                                           "%Y-%m-%d %H:%M:%S.%f").timestamp()
            direction = "sent" if "sent" in lines[i + 1] else "recv"
            j = i + 2
            while j < len(lines) and not lines[j].strip():
                j += 1
            body = []
            k = j
            while k < len(lines) and not lines[k].startswith("-----"):
                body.append(lines[k])
                k += 1
            out.append((t, direction, lines[j] if j < len(lines) else "",
                        "\n".join(body)))
            i = k
        else:
            i += 1
    return out


def switch_sent(host_msg):
    for t, d, first, body in stamps(host_msg):
        if d == "sent" and first.startswith("MESSAGE") and "/switch" in body:
            return t
    raise SystemExit("no /switch in " + host_msg)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def cpu_share(path, t0, end, members):
    """% of a core each process used between the samples around t0 and
    end, and the machine's idle % of all cores: "tv sipp idle", or
    "- - -" with too few samples; with the processes' schedstat in the
    samples, also "tv_wait sipp_wait": the % of that time each was ready
    to run and waited for a core (its run-queue delay), and "tv_ms": the
CPU tvspaced's loop used in that time, ms a member re-pointed."""
    rows = [tuple(float(x) for x in ln.split())
            for ln in open(path) if len(ln.split()) in (4, 10)]
    a = [r for r in rows if r[0] <= t0]
    b = [r for r in rows if r[0] >= end]
    if not a or not b or b[0][0] <= a[-1][0]:
        return "- - - - - -"
    a, b = a[-1], b[0]
    core_s = os.sysconf("SC_CLK_TCK") * (b[0] - a[0])
    share = [100.0 * (b[i] - a[i]) / core_s for i in (1, 2, 3)]
    share[2] /= os.cpu_count()
    if len(a) == 10 and len(b) == 10:
        wall_ns = 1e9 * (b[0] - a[0])
        share += [100.0 * (b[i] - a[i]) / wall_ns for i in (5, 8)]
        each = (b[4] - a[4]) / 1e6 / members if members else None
    else:
        share += [None, None]
        each = None
    return " ".join("-" if v is None else "%.0f" % v for v in share) + \
        (" -" if each is None else " %.3f" % each)


def main():
    mode, host = sys.argv[1], sys.argv[2]
    t0 = switch_sent(host)
    if mode == "multicast":
        # each guest's first 200 to the re-INVITE: a re-INVITE sent again
        # (its 200 was late) gets the 200 again, counted once
        first = {}
        reinvites = {}
        for t, d, line, body in stamps(sys.argv[3]):
            if d == "recv" and line.startswith("INVITE") and t >= t0:
                call = body.split("Call-ID:")[1].split("\n")[0].strip()
                reinvites[call] = reinvites.get(call, 0) + 1
            if d != "sent" or not line.startswith("SIP/2.0 200") or \
                    "INVITE" not in body.split("CSeq:")[1].split("\n")[0]:
                continue
            call = body.split("Call-ID:")[1].split("\n")[0].strip()
            first.setdefault(call, t)
        done = list(first.values())
        ms_raw = [(t - t0) * 1000.0 for t in done]
        again = "%d" % sum(n - 1 for n in reinvites.values())
        if len(sys.argv) > 4:
            samples = [tuple(float(x) for x in ln.split())
                       for ln in open(sys.argv[4]) if len(ln.split()) == 2]
            # from the switch to the last member re-pointed (the space's
            # end, later, sends its BYEs at once)
            end = t0 + max(ms_raw) / 1000.0 + 0.1
            before = [c for t, c in samples if t <= t0]
            after = [c for t, c in samples if t <= end]
            again += " %d" % ((after[-1] if after else 0) -
                              (before[-1] if before else 0))
        if len(sys.argv) > 5:
            again += " " + cpu_share(sys.argv[5], t0, end, len(ms_raw))
    else:
        # relay receiver log: "ssrc time" of each member's first marked
        # packet after the first one
        done = [float(ln.split()[1]) for ln in open(sys.argv[3])
                if ln.strip()]
        again = None
    ms = [(t - t0) * 1000.0 for t in done]
    print("%d %.1f %.1f %.1f%s" % (len(ms), pct(ms, 50), pct(ms, 99), max(ms),
                                  "" if again is None else " " + again))


if __name__ == "__main__":
    main()
