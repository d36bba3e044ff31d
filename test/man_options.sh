#!/usr/bin/env bash
# Every option a program's --help prints is documented in its man page,
# and the man page documents no option the program does not have.
# man_options.sh PROGRAM MANPAGE
set -euo pipefail
prog=$1 page=$2
help_opts=$("$prog" --help | grep -oE '^ +-[A-Za-z], --[a-z][a-z-]*' |
	sed 's/.*--//' | sort -u)
# In roff a long option is written \-\-name.
page_opts=$(grep -oE '\\-\\-[a-z][a-z-]*' "$page" | sed 's/^\\-\\-//' |
	sort -u)
[ -n "$help_opts" ] || {
	echo "$prog --help lists no option" >&2
	exit 1
}
rc=0
for o in $help_opts; do
	grep -qx -- "$o" <<<"$page_opts" || {
		echo "$(basename "$page"): --$o is not documented" >&2
		rc=1
	}
done
for o in $page_opts; do
	grep -qx -- "$o" <<<"$help_opts" || {
		echo "$(basename "$page"): --$o is not an option of $prog" >&2
		rc=1
	}
done
[ "$rc" -ne 0 ] ||
	echo "$(basename "$page"): $(wc -w <<<"$help_opts") options, all documented"
exit "$rc"
