#!/usr/bin/env bash
# Starts and stops a throwaway redis-server for the jwtkit::redis tests.
#
#   redis-fixture.sh start   <state-dir> [extra redis-server arguments...]
#   redis-fixture.sh restart <state-dir>   (same port, same arguments; the data is gone)
#   redis-fixture.sh stop    <state-dir>
#
# start picks a free loopback port and runs redis-server bound to 127.0.0.1 only, with no
# persistence (--save '' --appendonly no) and its working directory, pid file, log and Unix
# socket inside <state-dir>. It waits until the server answers PING, then writes
# <state-dir>/url (redis://127.0.0.1:<port>), <state-dir>/port and <state-dir>/socket.
#
# No redis-server: exit 1 when CI=true (the run must fail), else exit 77 after writing
# <state-dir>/skip, so ctest reports the Redis tests as skipped, not passed.
set -uo pipefail

readonly kSkip=77

die() { echo "redis-fixture: $*" >&2; exit 1; }

usage() { die "usage: $0 start|restart|stop <state-dir> [redis-server args...]"; }

[[ $# -ge 2 ]] || usage
cmd="$1"
dir="$2"
shift 2

server="${JWTKIT_REDIS_SERVER:-$(command -v redis-server || true)}"

# PING over bash's /dev/tcp (no redis-cli needed). Succeeds when the server answers: +PONG,
# or -NOAUTH from a server started with --requirepass.
ping_port() {
  local port="$1" line=""
  # The braces keep the 2>/dev/null from sticking to the shell (exec alone would).
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  IFS= read -r -t 2 line <&3 || true
  exec 3<&- 3>&-
  [[ "$line" == "+PONG"* || "$line" == "-NOAUTH"* ]]
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

read_pid() { [[ -f "$dir/redis.pid" ]] && cat "$dir/redis.pid" 2>/dev/null; }

do_stop() {
  local pid
  pid="$(read_pid || true)"
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null
    # Done once it is gone, or once it has logged its last words: by then it has closed its
    # listening sockets and clients (the process itself can take another second to exit).
    for _ in $(seq 1 200); do
      pid_alive "$pid" || break
      grep -q "ready to exit, bye bye" "$dir/redis.log" 2>/dev/null && break
      sleep 0.02
    done
    if pid_alive "$pid" && ! grep -q "ready to exit, bye bye" "$dir/redis.log" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null
      echo "redis-fixture: redis-server $pid did not stop on SIGTERM, killed" >&2
    fi
  fi
  rm -f "$dir/redis.pid"
}

# Starts on port $1 with the saved arguments: 0 when it answers PING, 2 when the port was
# taken (try another), 1 on any other failure.
try_start() {
  local port="$1" sock="$2"
  local args=(--port "$port" --bind 127.0.0.1 --save '' --appendonly no
              --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid"
              --logfile "$dir/redis.log" --unixsocket "$sock" --unixsocketperm 700)
  local extra=()
  if [[ -f "$dir/args" ]]; then
    mapfile -t extra <"$dir/args"
  fi
  rm -f "$dir/redis.pid"
  : >"$dir/redis.log"
  "$server" "${args[@]}" "${extra[@]}" || return 1
  # Up to 10 s for the first PONG; give up at once if the log says the port was taken.
  for _ in $(seq 1 200); do
    if ping_port "$port"; then
      # Make sure the answer came from our server: its pid file exists and it is alive.
      for _ in $(seq 1 40); do
        pid_alive "$(read_pid || true)" && return 0
        sleep 0.05
      done
      return 1
    fi
    if grep -q -E "Could not create server TCP|Failed listening|Address already in use" \
        "$dir/redis.log" 2>/dev/null; then
      return 2
    fi
    sleep 0.05
  done
  return 1
}

do_start() {
  local reuse_port="$1"
  if [[ -z "$server" || ! -x "$server" ]]; then
    if [[ "${CI:-}" == "true" ]]; then
      rm -f "$dir/skip"
      die "redis-server not found (install the redis-server package); CI=true, so this fails"
    fi
    mkdir -p "$dir" && : >"$dir/skip"
    echo "redis-fixture: redis-server not found: the Redis tests are skipped" >&2
    exit "$kSkip"
  fi
  mkdir -p "$dir" || die "cannot create $dir"
  dir="$(cd "$dir" && pwd)"
  rm -f "$dir/skip"
  do_stop  # a server left over from an interrupted run

  # Unix socket paths are limited to ~107 bytes.
  local sock="$dir/redis.sock"
  if [[ ${#sock} -gt 100 ]]; then
    sock="$(mktemp -u /tmp/jwtkit-redis-XXXXXXXX).sock"
  fi

  local port attempts=0
  while (( attempts < 30 )); do
    attempts=$((attempts + 1))
    if [[ -n "$reuse_port" ]]; then
      port="$reuse_port"
    else
      port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
      port_in_use "$port" && continue
    fi
    try_start "$port" "$sock"
    local rc=$?
    if [[ $rc -eq 0 ]]; then
      echo "$port" >"$dir/port"
      echo "redis://127.0.0.1:$port" >"$dir/url"
      echo "$sock" >"$dir/socket"
      echo "redis-fixture: redis-server $(read_pid) listening on 127.0.0.1:$port and $sock"
      return 0
    fi
    do_stop
    [[ $rc -eq 2 ]] || break
    if [[ -n "$reuse_port" ]]; then
      # Restart on the same port: the old socket may linger briefly, keep trying.
      sleep 0.1
    fi
  done
  echo "--- redis.log:" >&2
  cat "$dir/redis.log" >&2 2>/dev/null
  die "could not start redis-server after $attempts attempts"
}

case "$cmd" in
  start)
    mkdir -p "$dir" || die "cannot create $dir"
    printf '%s\n' "$@" | sed '/^$/d' >"$dir/args"
    do_start ""
    ;;
  restart)
    [[ -f "$dir/port" ]] || die "no server was started in $dir"
    do_start "$(cat "$dir/port")"
    ;;
  stop)
    do_stop
    ;;
  *)
    usage
    ;;
esac
