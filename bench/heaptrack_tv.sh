#!/usr/bin/env bash
# tvspaced under heaptrack, for bench/members.sh (MEMBERS_HEAP=1): run as
# tvspaced is, with HEAP_TV the tvspaced to run and HEAP_OUT where
# heaptrack writes (HEAP_OUT.zst).  A SIGTERM to this script goes to
# tvspaced, and heaptrack then finishes its file.
heaptrack -o "$HEAP_OUT" "$HEAP_TV" "$@" &
h=$!
stop() {
	local p
	p=$(ps -o pid=,comm= --ppid "$h" | awk '$2 == "tvspaced" { print $1 }')
	[ -z "$p" ] || kill "$p"
}
trap stop TERM INT
wait "$h"
wait "$h"
