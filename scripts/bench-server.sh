#!/usr/bin/env bash
# `tls server` against nginx under wrk, in one run, same certificate (ECDSA P-256), same files,
# TLS 1.3 with TLS_AES_128_GCM_SHA256 only; then the server's memory with N idle connections.
#
#   scripts/bench-server.sh            # RUNS=3 DURATION=10 CONNS=50 IDLE=5000
# Prints requests/s per case (median of RUNS) and the ratio tls/nginx.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-50}
IDLE=${IDLE:-5000}
SUITE=TLS_AES_128_GCM_SHA256

need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
command -v openssl >/dev/null || need+=(openssl)
command -v bc >/dev/null || need+=(bc)
if ((${#need[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

cargo build --release --quiet --bin tls --example idle_connections
TLS=target/release/tls
IDLER=target/release/examples/idle_connections

work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/www" "$work/nginx"
head -c 1024 /dev/urandom >"$work/www/1k.bin"
head -c 1048576 /dev/urandom >"$work/www/1m.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout "$work/key.pem" -out "$work/cert.pem" -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext basicConstraints=critical,CA:FALSE 2>/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }

NGINX_PORT=$(free_port)
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes auto;
user root;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
daemon off;
events { worker_connections 8192; }
http {
  access_log off;
  sendfile off;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.3;
    ssl_conf_command Ciphersuites $SUITE;
    ssl_session_cache off;
    ssl_session_tickets off;
    root $work/www;
  }
}
CONF
"$NGINX" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
pids+=($!)

TLS_PORT=$(free_port)
TLS_LOG=off "$TLS" server -c "$work/cert.pem" -k "$work/key.pem" --cipher "$SUITE" -d "$work/www" \
  --max-connections $((IDLE + 200)) --max-connections-per-ip $((IDLE + 200)) 127.0.0.1:"$TLS_PORT" >/dev/null &
pids+=($!)
wait_port "$NGINX_PORT"
wait_port "$TLS_PORT"

rps() { # port path extra-args... -> requests/s
  local port=$1 path=$2; shift 2
  wrk -t2 -c"$CONNS" -d"${DURATION}s" "$@" "https://127.0.0.1:$port$path" | awk '/Requests\/sec/ {print $2}'
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "wrk -t2 -c$CONNS -d${DURATION}s, TLS 1.3 $SUITE, ECDSA P-256, median of $RUNS runs; nginx: $("$NGINX" -v 2>&1 | cut -d/ -f2), worker_processes auto"
printf '%-34s %12s %12s %7s\n' case "tls req/s" "nginx req/s" ratio
for case in "1k.bin keep-alive" "1m.bin keep-alive" "1k.bin close"; do
  set -- $case
  extra=()
  [ "$2" = close ] && extra=(-H "Connection: close")
  ours=(); theirs=()
  for _ in $(seq "$RUNS"); do
    ours+=("$(rps "$TLS_PORT" "/$1" "${extra[@]}")")
    theirs+=("$(rps "$NGINX_PORT" "/$1" "${extra[@]}")")
  done
  o=$(printf '%s\n' "${ours[@]}" | median)
  n=$(printf '%s\n' "${theirs[@]}" | median)
  printf '%-34s %12s %12s %7.3f\n' "$1 $2" "$o" "$n" "$(echo "$o / $n" | bc -l)"
done

# Memory: resident size of `tls server` before and with IDLE idle, established connections.
ulimit -n "$(ulimit -Hn)"  # both the server and the idle clients hold IDLE sockets
TLS_PID=${pids[1]}
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
before=$(rss "$TLS_PID")
coproc IDLERS { "$IDLER" "$IDLE" "127.0.0.1:$TLS_PORT"; }
read -r ready _ <&"${IDLERS[0]}"
[ "$ready" = ready ] || { echo "idle clients failed" >&2; exit 1; }
threads() { awk '/Threads/ {print $2}' "/proc/$TLS_PID/status"; }
for _ in $(seq 50); do [ "$(threads)" -gt "$IDLE" ] && break; sleep 0.2; done
sleep 1
after=$(rss "$TLS_PID")
threads=$(threads)
printf 'memory: %d idle TLS connections: RSS %d KiB -> %d KiB (%.1f MiB), %.1f KiB per connection, %d threads\n' \
  "$IDLE" "$before" "$after" "$(echo "$after / 1024" | bc -l)" "$(echo "($after - $before) / $IDLE" | bc -l)" "$threads"
kill "$IDLERS_PID" 2>/dev/null || true
