#!/usr/bin/env bash
# A Docker engine for the Compose test (tests/compose/) and for building images on a machine
# that runs none: the one that answers if there is one, else a dockerd of Casebook's own.
#   bash deploy/engine.sh start   prints DOCKER_HOST=..., and CASEBOOK_ENGINE_STARTED=1 when
#                                 this call started dockerd (its caller stops it); exits 1
#                                 saying why when no engine answers and none can start
#   bash deploy/engine.sh stop    stops Casebook's own dockerd; never any other engine
# Casebook's dockerd runs without a bridge or iptables rules (containers use the host's network,
# listening on 127.0.0.1 only), with its data, and so its image cache, in
# $CASEBOOK_DOCKER_ROOT (default /var/lib/casebook-docker), which outlives every checkout.
# Its log: $CASEBOOK_DOCKER_ROOT/dockerd.log. Needs root.
set -euo pipefail

STATE="${CASEBOOK_DOCKER_ROOT:-/var/lib/casebook-docker}"
RUN_DIR=/run/casebook-docker
SOCKET="unix://$RUN_DIR/docker.sock"
PIDFILE="$RUN_DIR/dockerd.pid"
LOG="$STATE/dockerd.log"

say() { printf 'engine: %s\n' "$*" >&2; }

answers() {  # DOCKER_HOST value
  DOCKER_HOST="$1" timeout 20 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

ours_running() {
  [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

start() {
  for candidate in "${DOCKER_HOST:-}" "$SOCKET" unix:///var/run/docker.sock; do
    if [ -n "$candidate" ] && answers "$candidate"; then
      printf 'DOCKER_HOST=%s\n' "$candidate"
      return 0
    fi
  done
  command -v docker >/dev/null || { say "no docker command (apt-get install docker.io)"; exit 1; }
  command -v dockerd >/dev/null || { say "no dockerd (apt-get install docker.io)"; exit 1; }
  [ "$(id -u)" = 0 ] || { say "starting dockerd needs root"; exit 1; }
  mkdir -p "$STATE" "$RUN_DIR"
  say "starting dockerd (data in $STATE/engine, log in $LOG)"
  # Detached from this shell's session, so it outlives the caller until `stop`.
  setsid dockerd --bridge=none --iptables=false --ip6tables=false \
    --data-root "$STATE/engine" --exec-root "$RUN_DIR/exec" --pidfile "$PIDFILE" \
    --host "$SOCKET" >>"$LOG" 2>&1 </dev/null &
  local pid=$!
  for _ in $(seq 1 60); do
    if answers "$SOCKET"; then
      printf 'DOCKER_HOST=%s\nCASEBOOK_ENGINE_STARTED=1\n' "$SOCKET"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      say "dockerd exited at start; the end of $LOG:"
      tail -n 15 "$LOG" >&2
      exit 1
    fi
    sleep 1
  done
  say "dockerd did not answer on $SOCKET within 60 s; the end of $LOG:"
  tail -n 15 "$LOG" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
}

stop() {
  ours_running || return 0
  local pid
  pid="$(cat "$PIDFILE")"
  say "stopping dockerd $pid"
  kill "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 1
  done
  say "dockerd $pid did not stop within 60 s"
  exit 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) sed -n '2,12p' "$0"; exit 2 ;;
esac
