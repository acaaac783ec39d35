#!/usr/bin/env bash
# Runs a command with a private loopback nginx (Debian's nginx-light) serving what the in-process
# origin cannot: HTTP/2 over TLS (ALPN) and cleartext HTTP/2 with prior knowledge.
#   with_nginx.sh COMMAND [ARGS...]
# Exports BOOST_CURL_NGINX_{HTTPS,H2C,HTTP}_PORT and BOOST_CURL_NGINX_CA (the self-signed
# certificate, valid for DNS:localhost only) to the command, and stops nginx afterwards.
set -euo pipefail
dir=$(mktemp -d /tmp/boost_curl-nginx.XXXXXX)
cleanup() { [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null; sleep 0.2; rm -rf "$dir"; }
trap cleanup EXIT
export BOOST_CURL_NGINX_CA=$dir/cert.pem
mkdir -p "$dir/www" "$dir/logs"
chmod 755 "$dir" "$dir/www"  # nginx workers run as an unprivileged user when started as root
head -c 100 /dev/zero | tr '\0' 'a' >"$dir/www/100b"
head -c 1048576 /dev/urandom >"$dir/www/1m"
chmod 644 "$dir/www/"*
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 2 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" 2>/dev/null
# Ports below Linux's ephemeral range (32768+), where the tests running beside this one (ctest
# -j) take their client ports; and another try with other ports if one is taken anyway.
start_nginx() {
  local base=$1
  export BOOST_CURL_NGINX_HTTP_PORT=$base BOOST_CURL_NGINX_H2C_PORT=$((base + 1)) BOOST_CURL_NGINX_HTTPS_PORT=$((base + 2))
cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 100000;
  default_type application/octet-stream;
  client_body_temp_path $dir/body; proxy_temp_path $dir/proxy; fastcgi_temp_path $dir/fcgi;
  uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
  server { listen 127.0.0.1:$BOOST_CURL_NGINX_HTTP_PORT; root $dir/www;
           location = /echo { return 200 "ok"; } }
  server { listen 127.0.0.1:$BOOST_CURL_NGINX_H2C_PORT http2; root $dir/www;
           location = /echo { return 200 "ok"; } }
  server { listen 127.0.0.1:$BOOST_CURL_NGINX_HTTPS_PORT ssl http2; root $dir/www;
           ssl_certificate $dir/cert.pem; ssl_certificate_key $dir/key.pem;
           location = /echo { return 200 "ok"; } }
}
CONF
  nginx -c "$dir/nginx.conf" -p "$dir" 2>"$dir/logs/start.log"
}
started=
for attempt in 1 2 3 4 5; do
  if start_nginx "${BOOST_CURL_NGINX_BASE_PORT:-$((12000 + RANDOM % 20000))}"; then started=1; break; fi
  grep -q "Address already in use" "$dir/logs/start.log" && [ -z "${BOOST_CURL_NGINX_BASE_PORT:-}" ] || break
done
[ -n "$started" ] || { cat "$dir/logs/start.log"; exit 1; }
for _ in $(seq 50); do [ -f "$dir/nginx.pid" ] && break; sleep 0.1; done
"$@"
