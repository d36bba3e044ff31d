#!/usr/bin/env bash
# Install the Debian packages tvspace needs to build, test and run, when
# any is missing.  Needs root (or sudo) only when something is missing.
set -euo pipefail

PACKAGES=(
	build-essential cmake pkg-config clang-format
	libsofia-sip-ua-dev libortp-dev libxml2-dev libxml2-utils libpq-dev
	libssl-dev
	check postgresql postgresql-client sip-tester tzdata python3 iproute2
	baresip-core curl kamailio kamailio-postgres-modules
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
