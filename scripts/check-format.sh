#!/usr/bin/env bash
# Fail when a C file of ours differs from .clang-format's layout.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -co --exclude-standard -- \
	'server/*.[ch]' 'sip/*.[ch]' 'media/*.[ch]' 'db/*.[ch]' 'test/*.c' \
	'test/*.h' 'test/fuzz/*.h')
[ ${#files[@]} -eq 0 ] && exit 0
clang-format --dry-run --Werror "${files[@]}"
