#!/usr/bin/env bash
# Fuzz tvspace's parsers with libFuzzer (clang, ASan and UBSan).
#   scripts/fuzz.sh [TARGET|all] [SECONDS]
# TARGET is one of test/fuzz/fuzz_TARGET.c (sdp, cmd, confinfo, lineup,
# guide); all (the default) runs each in turn, one process at a time,
# SECONDS each (default 60).  Builds build-fuzz/ (or $BUILD); the seed
# corpus test/fuzz/corpus/TARGET is only read: new inputs go to
# build-fuzz/work/TARGET, and a minimized merge of both to
# build-fuzz/merged/TARGET.  A crash is saved in build-fuzz/crashes/TARGET
# (replay it with the target binary and the file).  Prints a table, one
# row per target (the seconds it ran: a crash stops it), and fails when
# any target crashed.  Needs clang and Debian's libclang-rt-14-dev
# (libFuzzer's runtime); CI only replays the corpora (the fuzz_TARGET
# CTests of the normal build).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=${1:-all}
SECONDS_EACH=${2:-60}
BUILD=${BUILD:-build-fuzz}

all=()
for f in test/fuzz/fuzz_*.c; do
	t=${f#test/fuzz/fuzz_}
	all+=("${t%.c}")
done
if [ "$TARGET" = all ]; then
	targets=("${all[@]}")
elif [ -f "test/fuzz/fuzz_$TARGET.c" ]; then
	targets=("$TARGET")
else
	echo "unknown target '$TARGET' (one of: ${all[*]}, all)" >&2
	exit 2
fi
case $SECONDS_EACH in
'' | *[!0-9]*)
	echo "SECONDS must be a number" >&2
	exit 2
	;;
esac

for p in clang libclang-rt-14-dev; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed"; then
		echo "$p is missing: apt-get install clang libclang-rt-14-dev" >&2
		exit 2
	fi
done
mkdir -p "$BUILD"
if ! { CC=${CC:-clang} cmake -S . -B "$BUILD" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DTVSPACE_FUZZ=ON \
	-DTVSPACE_TESTS=OFF &&
	cmake --build "$BUILD" -j"$(nproc)" \
		--target "${targets[@]/#/fuzz_}"; } >"$BUILD/build.log" 2>&1; then
	cat "$BUILD/build.log" >&2
	exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
rows=()
failed=0
for t in "${targets[@]}"; do
	bin=$BUILD/test/fuzz/fuzz_$t
	work=$BUILD/work/$t
	merged=$BUILD/merged/$t
	crashes=$BUILD/crashes/$t
	log=$BUILD/fuzz_$t.log
	mkdir -p "$work" "$crashes"
	before=$(find "$crashes" -type f | wc -l)
	echo "fuzzing $t for $SECONDS_EACH s (log: $log)"
	# One process (the machine is shared); a slow input (over 10 s) or
	# one over 2 GB counts as a crash.
	rc=0
	start=$(date +%s)
	"$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$crashes/" \
		"$work" "test/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
	ran=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
		tail -1)
	secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	# What the run kept, minimized with the seeds.
	rm -rf "$merged"
	mkdir -p "$merged"
	"$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 "$merged" "$work" \
		"test/fuzz/corpus/$t" >>"$log" 2>&1 || true
	files=$(find "$merged" -type f | wc -l)
	bytes=$(find "$merged" -type f -printf '%s\n' |
		awk '{n += $1} END {print n + 0}')
	found=$(($(find "$crashes" -type f | wc -l) - before))
	[ "$rc" -eq 0 ] && [ "$found" -eq 0 ] || failed=1
	rows+=("$t $ran ${execs:-?} ${secs:-?} $files $bytes $found")
done

printf '\n%-10s %8s %12s %10s %8s %10s %8s\n' target seconds executions \
	exec/s files bytes crashes
for r in "${rows[@]}"; do
	# shellcheck disable=SC2086
	printf '%-10s %8s %12s %10s %8s %10s %8s\n' $r
done
if [ "$failed" -ne 0 ]; then
	echo "crashes: see $BUILD/crashes and $BUILD/fuzz_TARGET.log" >&2
	exit 1
fi
