#!/usr/bin/env bash
# User and system CPU per request, apart (compare.sh prints their sum): where a client's extra
# cost sits, in user code or in the kernel. Alternating rounds, medians, from /usr/bin/time.
#   bench/user_sys.sh ROUNDS URL TOTAL CONCURRENCY NAME='CMD' ...
#   e.g. bench/user_sys.sh 5 http://127.0.0.1:18080/100b 40000 1 \
#          epoll=/tmp/bc-anchors/curl_epoll_socket "boost_curl=taskset -c 1 build/release/bench/bcurl-bench"
set -euo pipefail
[ $# -ge 5 ] || { sed -n '2,6p' "$0"; exit 2; }
rounds=$1 url=$2 total=$3 conc=$4; shift 4
out=$(mktemp); trap 'rm -f "$out"' EXIT
for ((r = 0; r < rounds; r++)); do
  for spec in "$@"; do
    # A client that fails (exit status not 0) counts as no measurement, not as zero CPU.
    line=$( { /usr/bin/time -f "TIME %U %S" ${spec#*=} "$url" "$total" "$conc" >/dev/null; } 2>&1 || true)
    grep -q 'Command exited with non-zero status\|Command terminated' <<<"$line" && line=
    line=$(grep '^TIME' <<<"$line" || true)
    echo "${spec%%=*} ${line:-TIME - -}" >>"$out"
  done
done
python3 - "$out" "$total" <<'PY'
import sys, statistics as st
runs = {}
for l in open(sys.argv[1]):
    name, _, u, s = l.split()
    runs.setdefault(name, [])
    if u != '-': runs[name].append((float(u), float(s)))
per = 1e6 / int(sys.argv[2])
print(f"{'client':<22}{'user_us/req':>12}{'sys_us/req':>12}{'cpu_us/req':>12}")
for name, v in runs.items():
    if not v: print(f"{name:<22}{'failed':>12}"); continue
    u, s, t = (st.median(x[0] for x in v), st.median(x[1] for x in v), st.median(x[0] + x[1] for x in v))
    print(f"{name:<22}{u * per:>12.1f}{s * per:>12.1f}{t * per:>12.1f}")
PY
