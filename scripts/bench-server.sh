#!/usr/bin/env bash
# `tls server` against nginx, h2o and Caddy in one run: same certificate, same files, TLS 1.3,
# no session cache or tickets where the server lets us say so, access logs off, two workers
# each (nginx worker_processes 2, h2o num-threads 2, Caddy GOMAXPROCS=2, ours one per core on
# this 2-core kind: check `nproc`); then the memory each spends per idle TLS connection.
#
#   scripts/bench-server.sh                        # RUNS=3 DURATION=10 IDLE=10000 KEYS="rsa ecdsa"
#   SERVERS="tls h2o" CASES="1k:200:keep" KEYS=rsa scripts/bench-server.sh   # one cell
#   SERVER_FLAGS=--threaded scripts/bench-server.sh  # the thread-per-connection server (no h2)
#
# Cases are FILE:CONNECTIONS:MODE, MODE one of keep (wrk, HTTP/1.1 keep-alive), close (wrk, a
# full handshake per request) or h2 (h2load, HTTP/2, 100 streams per connection). Runs of the
# servers alternate; each figure is the median of RUNS. One table: requests/s per server, and
# the ratio of ours to the best of the others in that cell; under each, the CPU time each
# server spent per request (user + system, its child processes included), since on a small
# machine the load generator competes with the server for the same cores.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
IDLE=${IDLE:-10000}
KEYS=${KEYS:-rsa ecdsa}
SERVERS=${SERVERS:-tls nginx h2o caddy}
CASES=${CASES:-1k:20:keep 1k:200:keep 1k:1000:keep 64k:50:keep 1m:50:keep 1k:50:close 1k:4:h2}
WRK_THREADS=${WRK_THREADS:-1}
SERVER_FLAGS=${SERVER_FLAGS:-}

need=()
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v h2o >/dev/null || need+=(h2o)
command -v caddy >/dev/null || need+=(caddy)
command -v wrk >/dev/null || need+=(wrk)
command -v h2load >/dev/null || need+=(nghttp2-client)
command -v openssl >/dev/null || need+=(openssl)
command -v bc >/dev/null || need+=(bc)
if ((${#need[@]})); then
  # Package scripts must not start system-wide servers: ours start their own.
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo build --release --quiet --bin tls --example idle_connections
TARGET=${CARGO_TARGET_DIR:-target}
TLS=$TARGET/release/tls
IDLER=$TARGET/release/examples/idle_connections
ulimit -n "$(ulimit -Hn)" # the load generators, the servers and the idle clients hold many sockets

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
chmod -R a+rX "$work"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cpu_ticks() { # user + system clock ticks a process and its children (nginx's workers) have used
  local total=0 pid
  for pid in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
HZ=$(getconf CLK_TCK)

rss_tree() { # total resident KiB of a process and its children (nginx's workers)
  local total=0 pid
  for pid in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

declare -A PORT PID

start_tls() { # key
  # shellcheck disable=SC2086
  TLS_LOG=off "$TLS" server $SERVER_FLAGS -c "$work/$1.crt" -k "$work/$1.key" --min-ver tls1.3 \
    -d "$work/www" --max-connections $((IDLE + 2000)) --max-connections-per-ip $((IDLE + 2000)) \
    --idle-timeout 300 127.0.0.1:"${PORT[tls]}" >/dev/null &
  PID[tls]=$!
}

start_nginx() { # key
  local dir="$work/nginx-$1"
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 2;
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
    listen 127.0.0.1:${PORT[nginx]} ssl http2;
    ssl_certificate $work/$1.crt;
    ssl_certificate_key $work/$1.key;
    ssl_protocols TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
    root $work/www;
  }
}
CONF
  /usr/sbin/nginx -c "$dir/nginx.conf" -e "$dir/error.log" &
  PID[nginx]=$!
}

start_h2o() { # key
  local dir="$work/h2o-$1"
  mkdir -p "$dir"
  cat >"$dir/h2o.conf" <<CONF
user: nobody
num-threads: 2
max-connections: $((IDLE + 2000))
error-log: $dir/error.log
http1-request-timeout: 300
http2-idle-timeout: 300
listen:
  host: 127.0.0.1
  port: ${PORT[h2o]}
  ssl:
    certificate-file: $work/$1.crt
    key-file: $work/$1.key
    minimum-version: TLSv1.2
ssl-session-resumption:
  mode: off
hosts:
  "127.0.0.1:${PORT[h2o]}":
    paths:
      "/":
        file.dir: $work/www
CONF
  h2o -c "$dir/h2o.conf" >"$dir/out.log" 2>&1 &
  PID[h2o]=$!
}

start_caddy() { # key
  local dir="$work/caddy-$1"
  mkdir -p "$dir"
  cat >"$dir/Caddyfile" <<CONF
{
  admin off
  auto_https off
}
https://127.0.0.1:${PORT[caddy]} {
  tls $work/$1.crt $work/$1.key {
    protocols tls1.3
  }
  root * $work/www
  file_server
}
CONF
  HOME="$dir" XDG_DATA_HOME="$dir" XDG_CONFIG_HOME="$dir" GOMAXPROCS=2 \
    caddy run --config "$dir/Caddyfile" --adapter caddyfile >"$dir/out.log" 2>&1 &
  PID[caddy]=$!
}

start_servers() { # key
  for server in $SERVERS; do
    PORT[$server]=$(free_port)
    "start_$server" "$1"
    pids+=("${PID[$server]}")
  done
  for server in $SERVERS; do wait_port "${PORT[$server]}"; done
  # h2o's TLS 1.3 comes from OpenSSL's defaults; show what each server negotiates.
  for server in $SERVERS; do
    printf '%s: %s\n' "$server" "$(echo | openssl s_client -connect 127.0.0.1:"${PORT[$server]}" -alpn h2,http/1.1 2>/dev/null |
      awk '/^New,|ALPN protocol/ {printf "%s ", $0}')"
  done >&2
}

stop_servers() {
  for server in $SERVERS; do kill "${PID[$server]}" 2>/dev/null || true; done
  for server in $SERVERS; do wait "${PID[$server]}" 2>/dev/null || true; done
}

rps() { # port path connections mode -> requests/s
  case "$4" in
    keep) wrk -t"$WRK_THREADS" -c"$3" -d"${DURATION}s" "https://127.0.0.1:$1/$2" | awk '/Requests\/sec/ {print $2}' ;;
    close) wrk -t"$WRK_THREADS" -c"$3" -d"${DURATION}s" -H "Connection: close" "https://127.0.0.1:$1/$2" | awk '/Requests\/sec/ {print $2}' ;;
    h2) h2load -t"$WRK_THREADS" -c"$3" -m100 -D"$DURATION" "https://127.0.0.1:$1/$2" | awk '/^finished in/ {print $4}' ;;
  esac
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
chmod 644 "$work"/*.key # h2o reads them before it drops to nobody; the folder is throwaway

others=$(for s in $SERVERS; do [ "$s" = tls ] || printf '%s ' "$s"; done)
echo "wrk -t$WRK_THREADS / h2load -m100, ${DURATION}s, median of $RUNS alternating runs; $(nproc) CPUs; tls server $SERVER_FLAGS;" \
  "nginx $(/usr/sbin/nginx -v 2>&1 | cut -d/ -f2); h2o $(h2o --version 2>/dev/null | head -1 | awk '{print $3}'); caddy $(caddy version 2>/dev/null | awk '{print $1}')"
printf '%-6s %-16s' key case
for server in $SERVERS; do printf ' %11s' "$server"; done
printf ' %9s %s\n' "ratio" "(tls / best of: $others)"
for key in $KEYS; do
  start_servers "$key"
  # Fresh servers first: memory freed by a load run would hide what idle connections cost.
  if [ "$IDLE" -gt 0 ]; then
    printf '%-6s %-16s' "$key" "KiB/idle conn"
    best=""
    for server in $SERVERS; do
      read -r each _ <<<"$(idle_cost "${PID[$server]}" "${PORT[$server]}")"
      printf ' %11.1f' "$each"
      [ "$server" = tls ] && ours=$each && continue
      if [ -z "$best" ] || [ "$(echo "$each < $best" | bc -l)" = 1 ]; then best=$each; fi
    done
    [ -n "$best" ] && printf ' %9.3f (lowest of the others / ours: above 1 is better)' "$(echo "$best / $ours" | bc -l)"
    printf '\n'
  fi
  for case in $CASES; do
    IFS=: read -r file conns mode <<<"$case"
    declare -A runs=() cpu=()
    for _ in $(seq "$RUNS"); do
      for server in $SERVERS; do
        if [ "$mode" = h2 ] && [ -n "$SERVER_FLAGS" ] && [ "$server" = tls ]; then
          runs[$server]+="0 "
          cpu[$server]+="0 "
        else
          before=$(cpu_ticks "${PID[$server]}")
          r=$(rps "${PORT[$server]}" "$file" "$conns" "$mode")
          after=$(cpu_ticks "${PID[$server]}")
          runs[$server]+="$r "
          # The server's own CPU per request: on this machine the load generator and the
          # server share the cores, so requests/s also rewards leaving the generator more.
          cpu[$server]+="$(echo "($after - $before) * 1000000 / $HZ / ($r * $DURATION + 1)" | bc -l) "
        fi
      done
    done
    printf '%-6s %-16s' "$key" "$file x$conns $mode"
    best=0
    for server in $SERVERS; do
      m=$(printf '%s\n' ${runs[$server]} | median)
      printf ' %11.0f' "$m"
      [ "$server" = tls ] && ours=$m && continue
      if [ "$(echo "$m > $best" | bc -l)" = 1 ]; then best=$m; fi
    done
    if [ "$(echo "$best > 0" | bc -l)" = 1 ]; then printf ' %9.3f' "$(echo "$ours / $best" | bc -l)"; fi
    printf '\n'
    printf '%-6s %-16s' "$key" "  CPU us/request"
    best=""
    for server in $SERVERS; do
      m=$(printf '%s\n' ${cpu[$server]} | median)
      printf ' %11.1f' "$m"
      [ "$server" = tls ] && ours=$m && continue
      if [ -z "$best" ] || [ "$(echo "$m < $best" | bc -l)" = 1 ]; then best=$m; fi
    done
    if [ "$(echo "$ours > 0" | bc -l)" = 1 ]; then printf ' %9.3f (lowest of the others / ours)' "$(echo "$best / $ours" | bc -l)"; fi
    printf '\n'
    unset runs cpu
  done
  stop_servers
done
