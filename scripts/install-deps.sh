#!/usr/bin/env bash
# Installs every Debian package boost_curl's build, tests, tools and benchmarks need
# (Debian bookworm, as root). Skips apt entirely when all are present already.
set -euo pipefail
packages=(
  build-essential g++ clang cmake ninja-build pkg-config git
  libclang-rt-14-dev  # libFuzzer and clang's sanitizer runtimes (test/fuzz/run.sh)
  libboost1.81-all-dev libboost-json1.81-dev libboost-url1.81-dev libcurl4-openssl-dev libssl-dev
  zlib1g-dev  # the loopback origin's /gzip-bomb route
  curl  # the curl tool: to_curl's lines are replayed by it in the tests
  tinyproxy-bin microsocks  # real proxies for the proxy tests (started by the tests, not as services)
  python3 python3-venv python3-pip
  nginx-light openssl nghttp2-client time
  valgrind  # bench/callgrind.sh and the cachegrind figures of bench/README.md
  linux-perf  # the perf stat / perf record figures of bench/README.md and bench/results
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
