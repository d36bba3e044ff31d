#!/usr/bin/env python3
"""What a softphone heard: the recording baresip's sndfile module wrote
(DIR/dump-*-dec.wav), or a WAV file (linphonec's "record"), in 100 ms
windows, each called silence, 440 Hz, 660 Hz or something else by its zero
crossings.  Prints the runs of windows; exit 0 when the runs of at least a
second name exactly the TONES given, in order (a run broken by at most
0.2 s of anything else counts as one; silence separates runs).

Usage: heard.py DIR|FILE.wav TONE..."""
import glob
import sys
import wave


def main():
    files = ([sys.argv[1]] if sys.argv[1].endswith(".wav") else
             glob.glob(sys.argv[1] + "/dump-*-dec.wav"))
    if not files:
        sys.exit("no recording of what the softphone heard")
    w = wave.open(files[0])
    rate, width = w.getframerate(), w.getsampwidth()
    data = w.readframes(w.getnframes())
    step = width * w.getnchannels()
    samples = [int.from_bytes(data[i:i + width], "little", signed=True)
               for i in range(0, len(data) - width + 1, step)]
    win = rate // 10
    runs = []
    for lo in range(0, len(samples) - win + 1, win):
        x = samples[lo:lo + win]
        hz = sum(1 for a, b in zip(x, x[1:]) if a < 0 <= b) * 10
        t = ("-" if max(abs(v) for v in x) < 1000 else
             "440" if abs(hz - 440) <= 20 else
             "660" if abs(hz - 660) <= 20 else "?")
        if runs and runs[-1][0] == t:
            runs[-1][1] += 1
        else:
            runs.append([t, 1])
    print("heard (tone, 100 ms windows):", runs)
    # A window or two of something else inside a tone (a late packet, a
    # burst after a restart) is not a change of tone: such a tone goes on.
    merged = []
    for t, n in runs:
        if (len(merged) >= 2 and merged[-1][0] == "?" and
                merged[-1][1] <= 2 and merged[-2][0] == t):
            merged.pop()
            merged[-1][1] += n
        else:
            merged.append([t, n])
    tones = [t for t, n in merged if t in ("440", "660") and n >= 10]
    sys.exit(0 if tones == sys.argv[2:] else 1)


if __name__ == "__main__":
    main()
