#!/usr/bin/env bash
# Build the page: install the npm packages that package-lock.json pins
# (npm ci, once, and again when the lockfile changes), then bundle into
# dist/ or the folder given.
#   web/build.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")"
command -v npm >/dev/null || { echo "web/build.sh: npm is not installed" >&2; exit 1; }
# One install at a time in this folder (the demo and a test may both ask).
exec 9>.npm.lock
flock 9
if [ ! -f node_modules/.package-lock.json ] ||
	[ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error >&2
fi
flock -u 9
node build.mjs "$@"
