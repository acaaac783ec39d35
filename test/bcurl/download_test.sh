#!/usr/bin/env bash
# bcurl -o FILE URL against a local static server (Python's http.server on 127.0.0.1, a port
# of its choosing): a 5 MB file arrives byte for byte; a 404 exits non-zero and leaves neither
# the file nor its .part; a refused connection the same.
#   download_test.sh BCURL
set -uo pipefail
bcurl=$1
work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/root"
head -c 5000000 /dev/urandom >"$work/root/big.bin"
python3 - "$work/root" >"$work/port" 2>"$work/server.log" <<'PY' &
import functools, http.server, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
print(server.server_address[1], flush=True)
server.serve_forever()
PY
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(head -1 "$work/port")
[ -n "$port" ] || { echo "the server did not start"; cat "$work/server.log"; exit 1; }
fail() { echo "FAIL: $*"; exit 1; }

"$bcurl" -o "$work/got.bin" "http://127.0.0.1:$port/big.bin" || fail "bcurl -o exited $?"
cmp -s "$work/root/big.bin" "$work/got.bin" || fail "the downloaded file differs"
[ ! -e "$work/got.bin.part" ] || fail "a .part file was left after success"

"$bcurl" -o "$work/missing.bin" "http://127.0.0.1:$port/no-such-file" && fail "a 404 exited 0"
[ ! -e "$work/missing.bin" ] && [ ! -e "$work/missing.bin.part" ] || fail "a 404 left a file"

"$bcurl" -o "$work/refused.bin" "http://127.0.0.1:1/" && fail "a refused connection exited 0"
[ ! -e "$work/refused.bin" ] && [ ! -e "$work/refused.bin.part" ] || fail "a refused connection left a file"
echo "bcurl download: ok"
