#!/usr/bin/env bash
# A headend for the browser channels: for each channel of a lineup that has
# tvspace-testsrc (etc/headend-lineup.m3u), one ffmpeg (Debian's) draws a
# test picture in the channel's own colour with its name, a clock and a
# moving test pattern, plays its tone, and sends the picture and the sound
# as two RTP streams (VP8 or H.264, RFC 6184; PCMU) to the channel's
# multicast groups, as tvspace-video and tvspace-audio say.  Runs until Ctrl-C or SIGTERM,
# which stop every ffmpeg it started.
#
#   scripts/headend.sh [-l LINEUP] [-i ADDRESS] [-s WxH] [-r FPS] [-g GOP]
#                      [-L LOGDIR] [-n]
#     -l  the lineup (etc/headend-lineup.m3u)
#     -i  the address whose interface the multicast leaves by (127.0.0.1;
#         the TTL is 0 there, so nothing leaves the machine)
#     -s  picture size (640x360), -r frames a second (25)
#     -g  frames from one keyframe to the next (25: a second); a member
#         switched to the channel shows a picture from the next keyframe
#     -L  a log file a channel there (else the terminal)
#     -n  print the ffmpeg commands, start nothing
set -euo pipefail
cd "$(dirname "$0")/.."

LINEUP=etc/headend-lineup.m3u
IFADDR=127.0.0.1
SIZE=640x360
FPS=25
GOP=25
LOGDIR=
DRY=0
while getopts "l:i:s:r:g:L:nh" opt; do
	case $opt in
	l) LINEUP=$OPTARG ;;
	i) IFADDR=$OPTARG ;;
	s) SIZE=$OPTARG ;;
	r) FPS=$OPTARG ;;
	g) GOP=$OPTARG ;;
	L) LOGDIR=$OPTARG ;;
	n) DRY=1 ;;
	*)
		sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
		exit 2
		;;
	esac
done
[[ $SIZE =~ ^[0-9]+x[0-9]+$ ]] || { echo "headend: -s WxH" >&2; exit 2; }
[[ $FPS =~ ^[0-9]+$ && $GOP =~ ^[0-9]+$ ]] || { echo "headend: -r and -g are numbers" >&2; exit 2; }
# The moving pattern: a quarter of the picture, in its bottom right corner
# (the top left stays the channel's plain colour).
W=${SIZE%x*} H=${SIZE#*x}
PATTERN=$((W / 8 * 2))x$((H / 8 * 2))
[ -r "$LINEUP" ] || { echo "headend: cannot read $LINEUP" >&2; exit 1; }
[ "$DRY" = 1 ] || command -v ffmpeg >/dev/null ||
	{ echo "headend: ffmpeg is not installed (apt-get install ffmpeg)" >&2; exit 1; }

# attr NAME LINE: the value of NAME="..." in an #EXTINF line.
attr() { sed -n "s/.* $1=\"\([^\"]*\)\".*/\1/p" <<<"$2"; }

# The encoder of an RTP encoding name, for ffmpeg.
video_codec() {
	case $1 in
	VP8) echo "-c:v libvpx -deadline realtime -cpu-used -16 -threads 1 -b:v 800k -auto-alt-ref 0 -error-resilient 1 -lag-in-frames 0" ;;
	# Baseline, no B-frames, SPS and PPS before every keyframe, so a
	# decoder that starts mid-stream starts at the next one.
	H264) echo "-c:v libx264 -preset ultrafast -tune zerolatency -profile:v baseline -level 3.1 -pix_fmt yuv420p -b:v 800k -bf 0 -x264-params repeat-headers=1" ;;
	*) return 1 ;;
	esac
}
audio_codec() {
	case $1 in
	PCMU) echo "-c:a pcm_mulaw -ar 8000 -ac 1" ;;
	PCMA) echo "-c:a pcm_alaw -ar 8000 -ac 1" ;;
	OPUS) echo "-c:a libopus -ar 48000 -ac 2 -b:a 64k -application lowdelay" ;;
	*) return 1 ;;
	esac
}

PIDS=()
stop() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	exit 0
}
trap stop INT TERM

n=0
extinf=
while IFS= read -r line || [ -n "$line" ]; do
	line=${line%$'\r'}
	if [[ $line == '#EXTINF:'* ]]; then
		extinf=$line
		continue
	fi
	[[ -z $line || $line == '#'* || -z $extinf ]] && continue
	info=$extinf
	extinf=
	testsrc=$(attr tvspace-testsrc "$info")
	# "MEDIA PT ENCODING/CLOCK [SOURCE@]GROUP:PORT", a stream each, in
	# tvspace-media's order.
	streams=
	for media in $(attr tvspace-media "$info"); do
		s=$(attr "tvspace-$media" "$info")
		[ -n "$s" ] && streams+="${streams:+,}$media $s"
	done
	[ -n "$testsrc" ] && [ -n "$streams" ] || continue
	id=$(attr tvg-id "$info")
	name=$(attr tvg-name "$info")
	colour=$(sed -n 's/.*colour=\(#[0-9a-fA-F]\{6\}\).*/\1/p' <<<"$testsrc")
	tone=$(sed -n 's/.*tone=\([0-9]\{2,5\}\).*/\1/p' <<<"$testsrc")
	[ -n "$colour" ] && [ -n "$tone" ] ||
		{ echo "headend: $id: tvspace-testsrc wants colour=#RRGGBB tone=HZ" >&2; exit 1; }
	# Only letters, digits and spaces reach the filter graph.
	label=$(tr -cd 'A-Za-z0-9 ' <<<"${name:-$id}")
	# The sound's rate and frame: 20 ms a frame and a packet (160 bytes
	# of G.711 after the 12 of RTP).
	rate=48000
	[[ $streams =~ audio\ [0-9]+\ PCM[UA]/ ]] && rate=8000
	args=(-hide_banner -loglevel warning -nostdin -re
		-f lavfi -i "color=c=$colour:s=$SIZE:r=$FPS[bg];testsrc2=s=$PATTERN:r=$FPS[ts];[bg][ts]overlay=x=W-w-W/32:y=H-h-H/32,drawtext=font=DejaVu Sans:text='$label':fontsize=h/8:fontcolor=white:x=(w-tw)/2:y=h/2-th-8,drawtext=font=DejaVu Sans Mono:text='%{localtime\:%T}':fontsize=h/6:fontcolor=white:x=(w-tw)/2:y=h/2+8,format=yuv420p"
		-re -f lavfi -i "sine=frequency=$tone:sample_rate=$rate:samples_per_frame=$((rate / 50))")
	IFS=',' read -r -a parts <<<"$streams"
	for part in "${parts[@]}"; do
		read -r media pt rtpmap addr _ <<<"$part"
		enc=${rtpmap%%/*}
		enc=${enc^^}
		group=${addr##*@}
		[[ $group =~ ^[0-9.]+:[0-9]+$ && $pt =~ ^[0-9]+$ ]] ||
			{ echo "headend: $id: cannot read stream '$part'" >&2; exit 1; }
		case $media in
		video)
			codec=$(video_codec "$enc") ||
				{ echo "headend: $id: no encoder for video $enc" >&2; exit 1; }
			# shellcheck disable=SC2206
			args+=(-map 0:v $codec -r "$FPS" -g "$GOP" -keyint_min "$GOP"
				-payload_type "$pt" -f rtp
				"rtp://$group?localaddr=$IFADDR&ttl=0&pkt_size=1200")
			;;
		audio)
			codec=$(audio_codec "$enc") ||
				{ echo "headend: $id: no encoder for audio $enc" >&2; exit 1; }
			size=1200
			[ "$rate" = 8000 ] && size=172
			# shellcheck disable=SC2206
			args+=(-map 1:a $codec -payload_type "$pt" -f rtp
				"rtp://$group?localaddr=$IFADDR&ttl=0&pkt_size=$size")
			;;
		*)
			echo "headend: $id: media '$media' is video or audio" >&2
			exit 1
			;;
		esac
	done
	n=$((n + 1))
	if [ "$DRY" = 1 ]; then
		printf 'ffmpeg'
		printf ' %q' "${args[@]}"
		printf '\n'
		continue
	fi
	echo "headend: $id ($name): $streams"
	if [ -n "$LOGDIR" ]; then
		ffmpeg "${args[@]}" >"$LOGDIR/headend-$id.log" 2>&1 &
	else
		ffmpeg "${args[@]}" 2> >(sed "s/^/headend $id: /" >&2) &
	fi
	PIDS+=($!)
done <"$LINEUP"
[ "$n" -gt 0 ] || { echo "headend: no channel with tvspace-testsrc in $LINEUP" >&2; exit 1; }
[ "$DRY" = 1 ] && exit 0
# Until told to stop; a channel whose ffmpeg dies is said so and the rest
# go on.
while [ ${#PIDS[@]} -gt 0 ]; do
	wait -n "${PIDS[@]}" || true
	alive=()
	for pid in "${PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null && alive+=("$pid")
	done
	[ ${#alive[@]} -lt ${#PIDS[@]} ] && echo "headend: an ffmpeg stopped" >&2
	PIDS=("${alive[@]}")
done
