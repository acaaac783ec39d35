#!/usr/bin/env bash
# Offline proof of the Conan 2 recipe: `conan create` (which also builds and runs test_package)
# with the system's Boost and libcurl standing in for ConanCenter's packages, through the two
# wrapper recipes in ci/conan/system/ (conventions.md §4.4, approach C). No remote is used.
#
#   CONAN_HOME       Conan home to use (default: a fresh temporary one, removed at the end)
#   CONAN            conan executable (default: `conan` on PATH if it is Conan 2, else one
#                    installed from PyPI into ${XDG_CACHE_HOME:-~/.cache}/boost_curl-conan-venv)
#   BOOST_CURL_JOBS  parallel build jobs (default 1)
# Extra arguments go to `conan create`, e.g. -o 'boost_curl/*:shared=True'.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$root/ci/conan

# Conan 2 from PyPI, in a venv: Debian's python refuses `pip install` outside one (PEP 668).
if [[ -z ${CONAN:-} ]]; then
  if command -v conan >/dev/null && conan --version 2>/dev/null | grep -q 'version 2\.'; then
    CONAN=conan
  else
    venv=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/boost_curl-conan-venv
    if [[ ! -x $venv/bin/conan ]]; then
      echo "installing Conan 2 into $venv"
      rm -rf "$venv"
      python3 -m venv "$venv" || { echo "python3 -m venv failed: install python3-venv" >&2; exit 1; }
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'conan>=2.0.15,<3'
    fi
    CONAN=$venv/bin/conan
  fi
fi
"$CONAN" --version

if [[ -z ${CONAN_HOME:-} ]]; then
  CONAN_HOME=$(mktemp -d "${TMPDIR:-/tmp}/boost_curl-conan-home.XXXXXX")
  trap 'rm -rf "$CONAN_HOME"' EXIT
  export CONAN_HOME
  "$CONAN" remote remove conancenter >/dev/null 2>&1 || true  # nothing may try the network
fi
export CONAN_HOME
[[ -f $("$CONAN" config home)/profiles/default ]] || "$CONAN" profile detect

# The wrappers carry the system's versions, so the recipe's ranges resolve to them.
cxx_value() { printf '#include <%s>\n%s\n' "$1" "$2" | "${CXX:-c++}" -E -P -x c++ - | tail -n 1 | tr -d '"'; }
v=$(cxx_value boost/version.hpp BOOST_VERSION)
boost_version=$((v / 100000)).$((v / 100 % 1000)).$((v % 100))
curl_version=$(cxx_value curl/curlver.h LIBCURL_VERSION)
echo "system Boost $boost_version, libcurl $curl_version"
"$CONAN" export "$here/system/boost" --version "$boost_version"
"$CONAN" export "$here/system/libcurl" --version "$curl_version"

nice -n 10 "$CONAN" create "$root" -pr:h "$here/offline.profile" -pr:b default --build=missing --no-remote \
  -c "tools.build:jobs=${BOOST_CURL_JOBS:-1}" "$@"
