#!/usr/bin/env bash
# Runs an end-to-end test in a network namespace of its own, with its own
# loopback: its SIP, SIPp and media ports are its own, so a test that
# spends most of its time waiting for SIP timers (RFC 4028's 90 s, the
# 32 s of a transaction) runs beside the others instead of holding the
# shared ports.  PostgreSQL is reached through its socket folder, which a
# network namespace does not hide.  CMake uses it only where it found
# `unshare -n` to work (root); elsewhere the test runs as the others do.
#   own_netns.sh SCRIPT
set -euo pipefail
exec unshare -n bash -c '
	ip link set lo up
	# multicast and the demo feeds leave by the default route
	ip route add default dev lo
	exec bash "$0"' "$1"
