#!/usr/bin/env bash
# One datagram must not freeze signalling: a request with version SIP/7.0,
# which sofia-sip answers 505 before its own Via processing, whose Via
# names a host (c.example.com, as in RFC 4475's badvers) made the stack
# look that host up with a blocking getaddrinfo() on the loop; with a DNS
# server that never answers, every other request waited for the resolver's
# timeout (about 10 s).  The test runs in a network namespace of its own
# whose resolver is an address routed into loopback, where its packets are
# dropped unanswered (ip netns exec puts /etc/netns/NS/resolv.conf in
# place of /etc/resolv.conf).  It checks that the namespace's resolver does
# stall, then sends the SIP/7.0 request (with rport, and without), and a
# SIP/2.0 request whose Via has maddr=c.example.com (maddr wins over
# received, so any answer to it needs the lookup), and times OPTIONS sent
# right after each: every one must be answered in under a second, and each
# 505 must come where RFC 3261 §18.2.2 and RFC 3581 send it (the source
# address; the source port with rport, the Via's port without).
set -euo pipefail
if [ -z "${TV_DNS_NS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || {
		echo "dns_stall: needs root (a network namespace)" >&2
		exit 1
	}
	ns=tvdns-$$
	ip netns add "$ns"
	trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "/etc/netns/$ns"' EXIT
	ip netns exec "$ns" ip link set lo up
	# TEST-NET-2 into loopback: not a local address, so what is sent
	# there is dropped, with no ICMP answer to end the wait.
	ip netns exec "$ns" ip route add 198.51.100.0/24 dev lo
	mkdir -p "/etc/netns/$ns"
	echo "nameserver 198.51.100.53" >"/etc/netns/$ns/resolv.conf"
	rc=0
	ip netns exec "$ns" env TV_DNS_NS="$ns" bash "$0" || rc=$?
	exit "$rc"
fi

. "$(dirname "$0")/../lib/e2e.sh"
RAW="python3 $SRC/test/lib/rawsip.py"
export SIP_PORT

# The namespace's resolver never answers: a lookup waits.
t0=$(date +%s%N)
if timeout 3 getent ahosts c.example.com >/dev/null; then
	die "c.example.com resolved: the resolver of the namespace answers"
fi
waited=$((($(date +%s%N) - t0) / 1000000))
[ "$waited" -ge 2500 ] || die "the lookup failed in $waited ms instead of waiting"
log "the namespace's resolver does not answer (a lookup still waiting after $waited ms)"

db_fresh
tv_start
$RAW options >/dev/null || die "OPTIONS not answered"
$RAW stall c.example.com 3 | tee "$E2E_DIR/stall.out" ||
	fail "a 505 did not come back where the Via says"
slowest=$(sed -n 's/^slowest: //p' "$E2E_DIR/stall.out")
if [ -n "$slowest" ] && [ "$slowest" -lt 1000 ]; then
	log "ok: OPTIONS after each of them answered in at most $slowest ms"
else
	fail "an OPTIONS after them took ${slowest:-?} ms"
fi
kill -0 "$TV_PID" 2>/dev/null || die "tvspaced died"
e2e_finish
