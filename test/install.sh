#!/usr/bin/env bash
# cmake --install puts what an operator needs where it belongs: the daemon,
# the admin tool, their man pages, the sample configuration (which must
# pass --check as shipped), the schema, the examples, the systemd unit and
# its user.
#   install.sh BUILD_DIR
set -euo pipefail
build=$1
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
cmake --install "$build" --prefix "$dest" >/dev/null
fail=0
for f in sbin/tvspaced bin/tvspacectl share/man/man8/tvspaced.8 \
	share/man/man8/tvspacectl.8 etc/tvspace/tvspace.conf \
	share/tvspace/schema/001_init.sql \
	share/tvspace/examples/demo-lineup.m3u \
	share/tvspace/examples/demo-news.ts \
	share/tvspace/examples/kamailio-tvspace.cfg \
	share/tvspace/examples/kamailio-ims.cfg \
	share/tvspace/examples/kamailio-webrtc.cfg \
	share/tvspace/examples/rtpengine-webrtc.conf \
	lib/systemd/system/tvspaced.service lib/sysusers.d/tvspace.conf \
	lib/sysctl.d/90-tvspace.conf; do
	if [ -e "$dest/$f" ]; then
		echo "ok: $f"
	else
		echo "FAIL: $f not installed"
		fail=1
	fi
done
"$dest/sbin/tvspaced" --version
"$dest/bin/tvspacectl" --version
# The sample configuration as shipped, with the example lineup.
"$dest/sbin/tvspaced" --config "$dest/etc/tvspace/tvspace.conf" \
	--lineup "$dest/share/tvspace/examples/demo-lineup.m3u" --check ||
	fail=1
if command -v man >/dev/null; then
	for page in tvspaced tvspacectl; do
		MANWIDTH=80 man -l "$dest/share/man/man8/$page.8" 2>&1 >/dev/null |
			grep . && fail=1
		echo "ok: man $page renders"
	done
fi
if command -v systemd-analyze >/dev/null; then
	# Only the binaries' paths (the configured prefix, not this one)
	# and the man pages (not installed on this system) may be missing.
	if systemd-analyze verify "$dest/lib/systemd/system/tvspaced.service" 2>&1 |
		grep -Ev "is not executable|Command 'man " | grep .; then
		fail=1
	else
		echo "ok: systemd-analyze verify tvspaced.service"
	fi
fi
exit $fail
