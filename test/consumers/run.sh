#!/usr/bin/env bash
# Proves that boost_curl can be consumed from outside its own build, each way a user would:
# installed CMake package (static and shared), add_subdirectory, FetchContent, pkg-config
# (static and shared) and a Conan 2 package (static and shared, offline: ci/conan/).
# Every proof builds and runs the same program, test/consumers/app/main.cpp.
#
#   bash test/consumers/run.sh
#
#   BOOST_CURL_JOBS=N          parallel build jobs (default 1: the machines are shared)
#   BOOST_CURL_SKIP_CONAN=1    skip the Conan proofs (they need Conan, from PyPI on first use)
#   BOOST_CURL_KEEP_WORK=1     keep the temporary work directory (build trees, logs)
# Prints one line per proof with its time, then "consumers: N passed, M failed"; exits non-zero
# if any proof failed, after printing the end of that proof's log.
set -uo pipefail
export LC_ALL=C  # '.' as the decimal point in $EPOCHREALTIME

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
consumers=$src/test/consumers
jobs=${BOOST_CURL_JOBS:-1}
work=$(mktemp -d "${TMPDIR:-/tmp}/boost_curl-consumers.XXXXXX")
if [[ ${BOOST_CURL_KEEP_WORK:-0} == 1 ]]; then echo "work directory: $work"; else trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work/logs"

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake_build() { nice -n 10 cmake --build "$1" -j "$jobs"; }

passed=0 failed=0
# proof NAME COMMAND...: run COMMAND with its output in a log; one result line with the time.
proof() {
  local name=$1 t0=$EPOCHREALTIME status
  shift
  local log=$work/logs/${name//[^A-Za-z0-9]/_}.log
  if "$@" >"$log" 2>&1; then
    status=PASS passed=$((passed + 1))
  else
    status=FAIL failed=$((failed + 1))
    { echo "---- $name failed; last lines of its log:"; tail -n 40 "$log"; echo "----"; } >&2
  fi
  printf '%s  %-24s %6.1f s\n' "$status" "$name" "$(awk "BEGIN { print $EPOCHREALTIME - $t0 }")"
}

# run_consumer BINARY: the program must exit 0 and say so.
run_consumer() {
  local out
  out=$(timeout 120 "$1") || { echo "$out"; return 1; }
  echo "$out"
  [[ $out == *"consumer ok"* ]]
}

# install_library KIND [CMAKE ARGS...]: build the library alone (Release) and install it to
# $work/prefix-KIND.
install_library() {
  local kind=$1
  shift
  cmake -S "$src" -B "$work/lib-$kind" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DBOOST_CURL_BUILD_TESTS=OFF -DBOOST_CURL_BUILD_EXAMPLES=OFF -DBOOST_CURL_BUILD_TOOLS=OFF \
    -DBOOST_CURL_BUILD_BENCH=OFF -DBOOST_CURL_INSTALL=ON \
    -DCMAKE_INSTALL_PREFIX="$work/prefix-$kind" -DCMAKE_INSTALL_LIBDIR=lib "$@" &&
    cmake_build "$work/lib-$kind" &&
    cmake --install "$work/lib-$kind"
}

# cmake_consumer NAME SOURCE_DIR [CMAKE ARGS...]: configure, build and run a consumer project.
cmake_consumer() {
  local dir=$work/consumer-$1 source=$2
  shift 2
  cmake -S "$source" -B "$dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@" &&
    cmake_build "$dir" &&
    run_consumer "$dir/consumer"
}

# pkg_config_consumer KIND: one compiler command, flags from boost_curl.pc only.
pkg_config_consumer() {
  local pc_path=$work/prefix-$1/lib/pkgconfig flags libdir
  flags=$(PKG_CONFIG_PATH=$pc_path pkg-config --cflags --libs boost_curl) || return
  libdir=$(PKG_CONFIG_PATH=$pc_path pkg-config --variable=libdir boost_curl) || return
  echo "pkg-config: $flags"
  read -ra flags <<<"$flags"
  nice -n 10 "${CXX:-c++}" -std=c++20 -O2 -o "$work/pkg-config-$1" "$consumers/app/main.cpp" "${flags[@]}" \
    -Wl,-rpath,"$libdir" &&
    run_consumer "$work/pkg-config-$1"
}

proof "install (static)" install_library static
proof "install (shared)" install_library shared -DBUILD_SHARED_LIBS=ON
proof "find_package (static)" cmake_consumer fp-static "$consumers/find_package" -DCMAKE_PREFIX_PATH="$work/prefix-static"
proof "find_package (shared)" cmake_consumer fp-shared "$consumers/find_package" -DCMAKE_PREFIX_PATH="$work/prefix-shared"
proof "add_subdirectory" cmake_consumer subdir "$consumers/add_subdirectory" -DBOOST_CURL_SOURCE_DIR="$src"
proof "FetchContent" cmake_consumer fetchcontent "$consumers/add_subdirectory" -DBOOST_CURL_SOURCE_DIR="$src" \
  -DUSE_FETCHCONTENT=ON
proof "pkg-config (static)" pkg_config_consumer static
proof "pkg-config (shared)" pkg_config_consumer shared
if [[ ${BOOST_CURL_SKIP_CONAN:-0} == 1 ]]; then
  echo "SKIP  conan create (BOOST_CURL_SKIP_CONAN=1)"
else
  # One Conan home for both runs: the second re-uses the detected profile and wrapper recipes.
  export CONAN_HOME=$work/conan-home BOOST_CURL_JOBS=$jobs
  proof "conan create (static)" bash "$src/ci/conan/offline-create.sh"
  proof "conan create (shared)" bash "$src/ci/conan/offline-create.sh" -o 'boost_curl/*:shared=True'
fi

echo "consumers: $passed passed, $failed failed"
((failed == 0))
