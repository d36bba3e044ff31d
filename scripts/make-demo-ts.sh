#!/usr/bin/env bash
# Makes the transport streams the demo's video channels play
# (tvspace-generate="ts:..." in etc/demo-lineup.m3u): five seconds of a test
# picture with the channel's name and a running clock, H.264 and an MPEG
# audio tone, multiplexed at a constant 400 kbit/s with a PCR every 40 ms,
# as an IPTV headend sends it.  Demo News has a keyframe every second, Demo
# Sports every two (a decoder joining it waits longer: what instant channel
# change is for).  The files are kept in the repository; this script says
# how they were made and makes them again (it needs ffmpeg, which the server
# and tests do not).
#   scripts/make-demo-ts.sh [OUTDIR]
set -euo pipefail
out=${1:-$(dirname "$0")/../etc}
font=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
command -v ffmpeg >/dev/null || {
	echo "make-demo-ts.sh: needs ffmpeg (apt-get install ffmpeg)" >&2
	exit 1
}

make() { # FILE NAME SOURCE TONE_HZ GOP_FRAMES
	ffmpeg -hide_banner -loglevel error -y \
		-f lavfi -i "$3=size=320x180:rate=25" \
		-f lavfi -i "sine=frequency=$4:sample_rate=48000" \
		-t 5 \
		-vf "drawtext=fontfile=$font:text='tvspace $2':x=10:y=10:fontsize=20:fontcolor=white:box=1:boxcolor=black@0.6,drawtext=fontfile=$font:text='%{pts\:hms}':x=10:y=150:fontsize=16:fontcolor=white:box=1:boxcolor=black@0.6" \
		-c:v libx264 -profile:v main -preset veryfast -pix_fmt yuv420p \
		-b:v 250k -maxrate 250k -bufsize 250k \
		-g "$5" -keyint_min "$5" -sc_threshold 0 \
		-x264-params repeat-headers=1 \
		-c:a mp2 -b:a 64k \
		-f mpegts -muxrate 400k -pcr_period 40 \
		-mpegts_flags +resend_headers \
		-metadata service_name="$2" -metadata service_provider=tvspace \
		"$out/$1"
}

make demo-news.ts "Demo News" testsrc2 880 25
make demo-sports.ts "Demo Sports" testsrc 660 50
