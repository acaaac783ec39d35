#!/usr/bin/env bash
# The main job: installs what is needed, builds bcurl (Release) and runs it with the given
# arguments. With no arguments bcurl runs a short load test against its embedded loopback
# origin, so it works on a machine with no network.
#   bash scripts/run-bcurl.sh [bcurl arguments...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/install-deps.sh"
build=${BOOST_CURL_BUILD_DIR:-$root/build/bcurl}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DBOOST_CURL_BUILD_TESTS=OFF -DBOOST_CURL_BUILD_EXAMPLES=OFF -DBOOST_CURL_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target bcurl -j "$(nproc)" >/dev/null
exec "$build/tools/bcurl/bcurl" "$@"
