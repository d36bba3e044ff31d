#!/usr/bin/env bash
# Makes etc/demo-news.ts, the transport stream the demo's "news" channel
# plays (tvspace-generate="ts:demo-news.ts" in etc/demo-lineup.m3u): five
# seconds of a test picture with the channel's name and a running clock,
# H.264 with a keyframe every second and an MPEG audio tone, multiplexed at a
# constant 400 kbit/s with a PCR every 40 ms, as an IPTV headend sends it.
# The file is kept in the repository; this script says how it was made and
# makes it again (it needs ffmpeg, which the server and tests do not).
#   scripts/make-demo-ts.sh [OUT]
set -euo pipefail
out=${1:-$(dirname "$0")/../etc/demo-news.ts}
font=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
command -v ffmpeg >/dev/null || {
	echo "make-demo-ts.sh: needs ffmpeg (apt-get install ffmpeg)" >&2
	exit 1
}
ffmpeg -hide_banner -loglevel error -y \
	-f lavfi -i "testsrc2=size=320x180:rate=25" \
	-f lavfi -i "sine=frequency=880:sample_rate=48000" \
	-t 5 \
	-vf "drawtext=fontfile=$font:text='tvspace Demo News':x=10:y=10:fontsize=20:fontcolor=white:box=1:boxcolor=black@0.6,drawtext=fontfile=$font:text='%{pts\:hms}':x=10:y=150:fontsize=16:fontcolor=white:box=1:boxcolor=black@0.6" \
	-c:v libx264 -profile:v main -preset veryfast -pix_fmt yuv420p \
	-b:v 250k -maxrate 250k -bufsize 250k \
	-g 25 -keyint_min 25 -sc_threshold 0 -x264-params repeat-headers=1 \
	-c:a mp2 -b:a 64k \
	-f mpegts -muxrate 400k -pcr_period 40 -mpegts_flags +resend_headers \
	-metadata service_name="Demo News" -metadata service_provider=tvspace \
	"$out"
