#!/usr/bin/env bash
# `tls server` against nginx under wrk, in one run: same certificate, same files, TLS 1.3 with
# TLS_AES_128_GCM_SHA256 only, no session cache or tickets on either side; then the memory
# each spends per idle established TLS connection.
#
#   scripts/bench-server.sh                 # RUNS=3 DURATION=10 IDLE=10000 KEYS="ecdsa rsa"
#   SERVER_FLAGS=--threaded scripts/bench-server.sh   # the thread-per-connection server
#   CASES="1k:20:keep" KEYS=ecdsa scripts/bench-server.sh  # one case
#
# Cases are FILE:CONNECTIONS:keep|close (close = a full handshake per request). Runs of the two
# servers alternate; each figure is the median of RUNS. Prints requests/s and the ratio
# tls/nginx per case and key, then resident memory per idle connection for both.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
IDLE=${IDLE:-10000}
KEYS=${KEYS:-ecdsa rsa}
CASES=${CASES:-1k:20:keep 1k:200:keep 1k:1000:keep 64k:50:keep 1m:50:keep 1k:50:close}
SERVER_FLAGS=${SERVER_FLAGS:-}
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
ulimit -n "$(ulimit -Hn)" # wrk, the servers and the idle clients hold many sockets

work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/www"
head -c 1024 /dev/urandom >"$work/www/1k"
head -c 65536 /dev/urandom >"$work/www/64k"
head -c 1048576 /dev/urandom >"$work/www/1m"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rss_tree() { # total resident KiB of a process and its children (nginx's workers)
  local total=0 pid
  for pid in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status")))
  done
  echo "$total"
}

# Starts nginx and `tls server` on the key pair in $work/$1; sets NGINX_PORT, TLS_PORT, *_PID.
start_servers() {
  local key=$1 dir="$work/nginx-$1"
  mkdir -p "$dir"
  NGINX_PORT=$(free_port)
  cat >"$dir/nginx.conf" <<CONF
worker_processes auto;
worker_rlimit_nofile 65536;
user root;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
daemon off;
events { worker_connections 16384; }
http {
  access_log off;
  sendfile off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_temp_path $dir;
  proxy_temp_path $dir;
  fastcgi_temp_path $dir;
  uwsgi_temp_path $dir;
  scgi_temp_path $dir;
  server {
    listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_certificate $work/$key.crt;
    ssl_certificate_key $work/$key.key;
    ssl_protocols TLSv1.3;
    ssl_conf_command Ciphersuites $SUITE;
    ssl_session_cache off;
    ssl_session_tickets off;
    root $work/www;
  }
}
CONF
  "$NGINX" -c "$dir/nginx.conf" -e "$dir/error.log" &
  NGINX_PID=$!
  pids+=("$NGINX_PID")
  TLS_PORT=$(free_port)
  # shellcheck disable=SC2086
  TLS_LOG=off "$TLS" server $SERVER_FLAGS -c "$work/$key.crt" -k "$work/$key.key" --cipher "$SUITE" \
    -d "$work/www" --max-connections $((IDLE + 2000)) --max-connections-per-ip $((IDLE + 2000)) \
    127.0.0.1:"$TLS_PORT" >/dev/null &
  TLS_PID=$!
  pids+=("$TLS_PID")
  wait_port "$NGINX_PORT"
  wait_port "$TLS_PORT"
}

stop_servers() {
  kill "$NGINX_PID" "$TLS_PID" 2>/dev/null || true
  wait "$NGINX_PID" "$TLS_PID" 2>/dev/null || true
}

rps() { # port path connections keep|close -> requests/s
  local extra=()
  [ "$4" = close ] && extra=(-H "Connection: close")
  wrk -t2 -c"$3" -d"${DURATION}s" "${extra[@]}" "https://127.0.0.1:$1/$2" | awk '/Requests\/sec/ {print $2}'
}

# Resident KiB per idle connection for the server tree rooted at $1 listening on $2.
idle_cost() {
  local before after
  before=$(rss_tree "$1")
  coproc IDLERS { "$IDLER" "$IDLE" "127.0.0.1:$2"; }
  read -r ready _ <&"${IDLERS[0]}"
  [ "$ready" = ready ] || { echo "idle clients failed" >&2; exit 1; }
  sleep 1
  after=$(rss_tree "$1")
  kill "$IDLERS_PID" 2>/dev/null || true
  wait "$IDLERS_PID" 2>/dev/null || true
  echo "$(echo "($after - $before) / $IDLE" | bc -l) $after"
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout "$work/ecdsa.key" -out "$work/ecdsa.crt" -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext basicConstraints=critical,CA:FALSE 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
  -keyout "$work/rsa.key" -out "$work/rsa.crt" -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext basicConstraints=critical,CA:FALSE 2>/dev/null

echo "wrk -t2 -d${DURATION}s, TLS 1.3 $SUITE, median of $RUNS alternating runs; nginx $("$NGINX" -v 2>&1 | cut -d/ -f2), worker_processes auto; tls server $SERVER_FLAGS; $(nproc) CPUs"
printf '%-6s %-22s %12s %12s %7s\n' key case "tls req/s" "nginx req/s" ratio
for key in $KEYS; do
  start_servers "$key"
  # Fresh servers first: memory freed by a load run would hide what idle connections cost.
  if [ "$IDLE" -gt 0 ]; then
    read -r ours ours_total <<<"$(idle_cost "$TLS_PID" "$TLS_PORT")"
    read -r theirs theirs_total <<<"$(idle_cost "$NGINX_PID" "$NGINX_PORT")"
    printf '%-6s memory, %d idle TLS connections: tls %.1f KiB each (RSS %d KiB), nginx %.1f KiB each (RSS %d KiB, all processes)\n' \
      "$key" "$IDLE" "$ours" "$ours_total" "$theirs" "$theirs_total"
  fi
  for case in $CASES; do
    IFS=: read -r file conns mode <<<"$case"
    ours=(); theirs=()
    for _ in $(seq "$RUNS"); do
      ours+=("$(rps "$TLS_PORT" "$file" "$conns" "$mode")")
      theirs+=("$(rps "$NGINX_PORT" "$file" "$conns" "$mode")")
    done
    o=$(printf '%s\n' "${ours[@]}" | median)
    n=$(printf '%s\n' "${theirs[@]}" | median)
    printf '%-6s %-22s %12s %12s %7.3f\n' "$key" "$file x$conns $mode" "$o" "$n" "$(echo "$o / $n" | bc -l)"
  done
  stop_servers
done
