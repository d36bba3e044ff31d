#!/usr/bin/env bash
# Install the Debian packages tvspace needs to build, test and run, when
# any is missing.  Needs root (or sudo) only when something is missing.
set -euo pipefail

PACKAGES=(
	build-essential cmake pkg-config clang-format
	# the static checks of .clang-tidy (scripts/tidy.sh, test clang_tidy)
	clang-tidy
	libsofia-sip-ua-dev libortp-dev libxml2-dev libxml2-utils libpq-dev
	libssl-dev
	check postgresql postgresql-client sip-tester tzdata python3 iproute2
	baresip-core curl kamailio kamailio-postgres-modules
	# linphone's command-line client, the second real softphone of the
	# end-to-end tests (docs/clients.md)
	linphone-cli
	# The web browser's path (docs/clients.md): Kamailio's websocket
	# module (xhttp and rtpengine are in kamailio), rtpengine in user
	# space, the headend's ffmpeg and font, Chromium for the browser
	# test, Node.js and npm to build the page and drive Chromium.
	kamailio-websocket-modules rtpengine-daemon ffmpeg fonts-dejavu-core
	chromium
)
# A Node.js from elsewhere (NodeSource's) carries its own npm, and
# Debian's npm conflicts with it: Debian's only where there is no npm.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	PACKAGES+=(nodejs npm)
fi

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
