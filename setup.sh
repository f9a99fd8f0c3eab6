#!/bin/sh
# Install what dssim needs on Debian (as root or through sudo), then build it.
# Usage: ./setup.sh [configure options...]
set -eu
cd "$(dirname "$0")"

# jq: tests/plan.sh reads `dssim plan --format json` with it (the test skips without it).
packages="build-essential autoconf automake libtool pkg-config libgsl-dev libsqlite3-dev libyaml-dev libcmocka-dev jq"
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing$missing"
	if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
fi

autoreconf -fi
./configure "$@"
make -j"$(nproc 2>/dev/null || echo 2)"
