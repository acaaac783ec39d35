#!/usr/bin/env bash
# Runs a command with real proxies from Debian's packages on loopback, as the current user:
# tinyproxy (an HTTP proxy that tunnels with CONNECT) and microsocks (SOCKS5, once without and
# once with a user name and password).
#   with_proxies.sh COMMAND [ARGS...]
# Exports BOOST_CURL_HTTP_PROXY_PORT, BOOST_CURL_SOCKS_PORT and BOOST_CURL_SOCKS_AUTH_PORT (user
# "proxyuser", password "proxypass") to the command, and stops the proxies afterwards.
set -euo pipefail
dir=$(mktemp -d /tmp/boost_curl-proxies.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.1; rm -rf "$dir"; }
trap cleanup EXIT
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
start() {
  local base=$1
  export BOOST_CURL_HTTP_PROXY_PORT=$base BOOST_CURL_SOCKS_PORT=$((base + 1)) BOOST_CURL_SOCKS_AUTH_PORT=$((base + 2))
  for port in "$BOOST_CURL_HTTP_PROXY_PORT" "$BOOST_CURL_SOCKS_PORT" "$BOOST_CURL_SOCKS_AUTH_PORT"; do
    listening "$port" && return 1  # taken
  done
  cat >"$dir/tinyproxy.conf" <<CONF
Port $BOOST_CURL_HTTP_PROXY_PORT
Listen 127.0.0.1
Timeout 60
MaxClients 200
Allow 127.0.0.1
LogLevel Error
LogFile "$dir/tinyproxy.log"
CONF
  tinyproxy -d -c "$dir/tinyproxy.conf" >"$dir/tinyproxy.out" 2>&1 &
  pids+=($!)
  microsocks -i 127.0.0.1 -p "$BOOST_CURL_SOCKS_PORT" >"$dir/socks.out" 2>&1 &
  pids+=($!)
  microsocks -i 127.0.0.1 -p "$BOOST_CURL_SOCKS_AUTH_PORT" -u proxyuser -P proxypass >"$dir/socks-auth.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do
    listening "$BOOST_CURL_HTTP_PROXY_PORT" && listening "$BOOST_CURL_SOCKS_PORT" &&
      listening "$BOOST_CURL_SOCKS_AUTH_PORT" && return 0
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  pids=()
  return 1
}
# Ports below Linux's ephemeral range, another try with others if one is taken.
started=
for attempt in 1 2 3 4 5; do
  if start $((12000 + RANDOM % 20000)); then started=1; break; fi
done
[ -n "$started" ] || { cat "$dir"/*.out "$dir"/*.log 2>/dev/null; echo "could not start the proxies"; exit 1; }
"$@"
