#!/usr/bin/env bash
# Runs a command with a private loopback nginx (Debian's nginx-light) serving what the in-process
# origin cannot: HTTP/2 over TLS (ALPN) and cleartext HTTP/2 with prior knowledge.
#   with_nginx.sh COMMAND [ARGS...]
# Exports BOOST_CURL_NGINX_{HTTPS,H2C,HTTP,MTLS,TLS12}_PORT, BOOST_CURL_NGINX_CA (the self-signed
# certificate, valid for DNS:localhost only), _CA_DIR (it, hashed), _PIN (its key's sha256 pin)
# and _CLIENT_CERT, _CLIENT_KEY, _CLIENT_KEY_ENCRYPTED (pass phrase hunter2) for the server that
# requires a client certificate (MTLS) to the command, and stops nginx afterwards. TLS12 speaks
# TLS 1.2 only.
set -euo pipefail
dir=$(mktemp -d /tmp/boost_curl-nginx.XXXXXX)
cleanup() { [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null; sleep 0.2; rm -rf "$dir"; }
trap cleanup EXIT
export BOOST_CURL_NGINX_CA=$dir/cert.pem
mkdir -p "$dir/www" "$dir/logs"
chmod 755 "$dir" "$dir/www"  # nginx workers run as an unprivileged user when started as root
head -c 100 /dev/zero | tr '\0' 'a' >"$dir/www/100b"
head -c 1048576 /dev/urandom >"$dir/www/1m"
head -c 16777216 /dev/urandom >"$dir/www/16m"
export BOOST_CURL_NGINX_WWW=$dir/www
chmod 644 "$dir/www/"*
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 2 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" 2>/dev/null
# The server key's pin (CURLOPT_PINNEDPUBLICKEY form), and the certificate in a hashed CA directory.
export BOOST_CURL_NGINX_PIN="sha256//$(openssl x509 -pubkey -noout -in "$dir/cert.pem" |
  openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)"
mkdir -p "$dir/ca-dir" && cp "$dir/cert.pem" "$dir/ca-dir/" && openssl rehash "$dir/ca-dir" 2>/dev/null
export BOOST_CURL_NGINX_CA_DIR=$dir/ca-dir
# Client certificates for the server that requires one: a client CA, and a client certificate
# with its key in clear and encrypted (pass phrase "hunter2").
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/client-ca-key.pem" -out "$dir/client-ca.pem" -days 2 \
  -subj "/CN=boost_curl test client CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$dir/client-key.pem" -out "$dir/client.csr" -subj "/CN=client" 2>/dev/null
openssl x509 -req -in "$dir/client.csr" -CA "$dir/client-ca.pem" -CAkey "$dir/client-ca-key.pem" -CAcreateserial \
  -out "$dir/client-cert.pem" -days 2 2>/dev/null
openssl pkey -in "$dir/client-key.pem" -aes256 -passout pass:hunter2 -out "$dir/client-key-encrypted.pem" 2>/dev/null
export BOOST_CURL_NGINX_CLIENT_CERT=$dir/client-cert.pem BOOST_CURL_NGINX_CLIENT_KEY=$dir/client-key.pem
export BOOST_CURL_NGINX_CLIENT_KEY_ENCRYPTED=$dir/client-key-encrypted.pem
# Ports below Linux's ephemeral range (32768+), where the tests running beside this one (ctest
# -j) take their client ports; and another try with other ports if one is taken anyway.
start_nginx() {
  local base=$1
  export BOOST_CURL_NGINX_HTTP_PORT=$base BOOST_CURL_NGINX_H2C_PORT=$((base + 1)) BOOST_CURL_NGINX_HTTPS_PORT=$((base + 2))
  export BOOST_CURL_NGINX_MTLS_PORT=$((base + 3)) BOOST_CURL_NGINX_TLS12_PORT=$((base + 4))
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
  server { listen 127.0.0.1:$BOOST_CURL_NGINX_MTLS_PORT ssl; root $dir/www;
           ssl_certificate $dir/cert.pem; ssl_certificate_key $dir/key.pem;
           ssl_verify_client on; ssl_client_certificate $dir/client-ca.pem;
           location = /whoami { return 200 "\$ssl_client_s_dn"; } }
  server { listen 127.0.0.1:$BOOST_CURL_NGINX_TLS12_PORT ssl; root $dir/www;
           ssl_certificate $dir/cert.pem; ssl_certificate_key $dir/key.pem; ssl_protocols TLSv1.2; }
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
