#!/usr/bin/env bash
# HTTP layer benchmark: requests/s over TLS keep-alive for a small GET (1 and 32 connections) and
# TLS handshakes/s, for ck-testd (the shared daemon scaffold) beside nginx serving the same bytes
# as a static file, both on loopback with the same certificate, measured with wrk in one run.
# Usage: tests/bench/http.bench.sh [BIN_DIR] [SECONDS]
set -euo pipefail
bin=${1:-build/bin}; secs=${2:-5}
bin=$(cd "$bin" && pwd)
for tool in wrk nginx; do command -v $tool >/dev/null || { echo "http bench: $tool is not installed (make deps)"; exit 1; }; done
work=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$bin/ck" pki --dir "$work/pki" --nodes 1 >/dev/null
mkdir -p "$work/www"; head -c 200 /dev/zero | tr '\0' x > "$work/www/hello"; echo >> "$work/www/hello"
io_threads=${IO_THREADS:-1}

nginx_port=$(free_port)
cat > "$work/nginx.conf" <<CONF
worker_processes $io_threads;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 90s;
  default_type text/plain;
  client_body_temp_path $work/body; proxy_temp_path $work/proxy; fastcgi_temp_path $work/fcgi;
  uwsgi_temp_path $work/uwsgi; scgi_temp_path $work/scgi;
  server {
    listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $work/pki/apiserver.crt;
    ssl_certificate_key $work/pki/apiserver.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $work/www;
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work" & pids+=($!)

ck_port=$(free_port)
"$bin/ck-testd" --secure-port="$ck_port" --bind-address=127.0.0.1 --io-threads="$io_threads" \
  --tls-cert-file="$work/pki/apiserver.crt" --tls-private-key-file="$work/pki/apiserver.key" 2>"$work/testd.log" & pids+=($!)

for port in $nginx_port $ck_port; do
  for _ in $(seq 100); do curl -sk "https://127.0.0.1:$port/hello" >/dev/null && break; sleep 0.05; done
done

# wrk prints "Requests/sec:  12345.67"
rate() { wrk "$@" 2>/dev/null | awk '/Requests\/sec/ {printf "%d", $2}'; }
run() { # name conns threads extra...
  local conns=$1 threads=$2; shift 2
  local n c
  n=$(rate -t"$threads" -c"$conns" -d"${secs}s" "$@" "https://127.0.0.1:$nginx_port/hello")
  c=$(rate -t"$threads" -c"$conns" -d"${secs}s" "$@" "https://127.0.0.1:$ck_port/hello")
  echo "$n $c"
}
read -r n1 c1 < <(run 1 1)
read -r n32 c32 < <(run 32 2)
read -r nh ch < <(run 32 2 -H "Connection: close")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "HTTP layer over TLS on loopback (wrk, ${secs}s each, server I/O threads: $io_threads; nginx worker_processes: $io_threads)"
printf '%-40s %14s %14s %12s\n' "workload" "ck (req/s)" "nginx (req/s)" "ck / nginx"
printf '%-40s %14s %14s %12s\n' "GET 201 B, keep-alive, 1 connection" "$c1" "$n1" "$(ratio "$c1" "$n1")"
printf '%-40s %14s %14s %12s\n' "GET 201 B, keep-alive, 32 connections" "$c32" "$n32" "$(ratio "$c32" "$n32")"
printf '%-40s %14s %14s %12s\n' "TLS handshakes/s (new conn per request)" "$ch" "$nh" "$(ratio "$ch" "$nh")"
echo "target: ck >= 0.8x nginx keep-alive request rate"
