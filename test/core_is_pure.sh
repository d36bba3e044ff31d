#!/usr/bin/env bash
# The core is pure (STYLE.md §1): server/space.c includes, directly or
# through any header, nothing of the SIP stack, libpq, ortp, sockets, or the
# adapters.  The preprocessor's own list of what it read is checked, so an
# include written with quotes or through another header cannot slip by.
# Usage: core_is_pure.sh CC SOURCE_DIR [CFLAGS...]
set -euo pipefail
cc=$1 src=$2
shift 2
deps=$("$cc" -M -MG -I"$src" "$@" "$src/server/space.c" | tr ' \\' '\n\n' |
	grep -v '^$')
bad=$(grep -E '/sofia-sip/(nua|nta|sip|sdp|tport|msg)[^/]*\.h$|libpq|/ortp/|/sys/socket\.h$|/netinet/|/(sip|db|media)/[^/]+\.h$' <<<"$deps" || true)
if [ -n "$bad" ]; then
	echo "server/space.c depends on what the core must not:"
	echo "$bad"
	exit 1
fi
echo "server/space.c reads $(wc -l <<<"$deps") files, none of them forbidden"
