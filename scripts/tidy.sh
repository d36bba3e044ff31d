#!/usr/bin/env bash
# clang-tidy, with the committed .clang-tidy, over every C file the build
# compiles of server/, sip/, media/ and db/: prints the findings and fails
# on any (a compile error counts as one).  The test clang_tidy runs it on
# the test build; by hand:
#   scripts/tidy.sh [BUILD]
# BUILD's compile_commands.json says which files and with which flags
# (default build-tidy, configured here when it has none).  test/ is left
# out: its runners pass bad arguments on purpose, and every one of them
# runs under AddressSanitizer and UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-tidy}

for tool in clang-tidy run-clang-tidy python3; do
	command -v "$tool" >/dev/null || {
		echo "tidy: $tool is missing (scripts/deps.sh installs it)" >&2
		exit 1
	}
done
if [ ! -f "$BUILD/compile_commands.json" ]; then
	cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug \
		-DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
fi
# The source tree as the compile database names it.
src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$BUILD/CMakeCache.txt")
[ -n "$src" ] || src=$(pwd -P)
files_re="^$(python3 -c 'import re, sys; print(re.escape(sys.argv[1]))' \
	"$src")/(server|sip|media|db)/[^/]+\\.c\$"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$SECONDS
rc=0
# Niced: it runs beside the end-to-end tests, whose timing matters more.
# -Wno-error: a build with warnings as errors would turn the compiler's
# own warnings (gcc's flags, read by clang) into errors here.
nice -n 19 run-clang-tidy -p "$BUILD" -j "$(nproc)" -quiet \
	-extra-arg=-Wno-error "$files_re" >"$out" 2>&1 || rc=$?
# run-clang-tidy 14 always asks for colours: they go.  Its own lines (the
# command of each file, the counts) are left out.
sed -i 's/\x1b\[[0-9;]*m//g' "$out"
grep -v -e '^clang-tidy' -e 'warnings\? \(and [0-9]* errors\? \)\?generated' \
	-e 'warnings\? treated as errors' -e '^Running clang-tidy for' \
	"$out" || true
# A finding's last line ends with the check's name, [name,...].
n=$(grep -c -E '\[[A-Za-z0-9._-]+(,-warnings-as-errors)?\]$' "$out" || true)
echo "tidy: $n findings, exit status $rc, $((SECONDS - start)) s"
[ "$rc" -eq 0 ] && [ "$n" -eq 0 ]
