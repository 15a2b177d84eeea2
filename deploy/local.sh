#!/usr/bin/env bash
# Casebook on one machine, from a fresh Debian/Ubuntu with Python 3.11:
#   bash deploy/local.sh run     install what is missing, start RabbitMQ, run every service
#   bash deploy/local.sh test    install what is missing, start RabbitMQ and PostgreSQL, run the tests
#   bash deploy/local.sh compose  start the Compose stack for real and test it (tests/compose/)
#   bash deploy/local.sh install | services | bench | unit | integration | e2e | faults | properties
#                        | cluster | compose-cluster | wheelhouse | lock
# Installs system packages with apt-get where they are missing (as root, or through sudo).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3.11}"
export CASEBOOK_TEST_PG_USER="${CASEBOOK_TEST_PG_USER:-casebook}"
export CASEBOOK_TEST_PG_PASSWORD="${CASEBOOK_TEST_PG_PASSWORD:-casebook}"
export CASEBOOK_TEST_PG_DB="${CASEBOOK_TEST_PG_DB:-casebook_test}"

say() { printf 'casebook: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  say "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

port_open() {
  "$PYTHON" - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(); s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
PY
}

wait_for_port() {  # port, name
  for _ in $(seq 1 90); do port_open "$1" && return 0; sleep 1; done
  say "$2 did not start listening on port $1"; return 1
}

ensure_python() {
  command -v "$PYTHON" >/dev/null || apt_install python3.11 python3.11-venv
  if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
    apt_install python3.11-venv || apt_install python3-venv
  fi
}

# Every distribution Casebook and its tools install, at the version its tests ran against
# (`lock` below makes it): an install next year gets what was tested, not a newer transitive
# dependency nobody has run.
CONSTRAINTS="$ROOT/deploy/constraints.txt"

ensure_venv() {
  ensure_python
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  local stamp="$VENV/.casebook-installed" want
  want="$(cat "$ROOT/pyproject.toml" "$CONSTRAINTS" | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing Casebook and its locked dependencies into .venv"
    "$VENV/bin/python" -m pip install -q --upgrade pip wheel setuptools --constraint "$CONSTRAINTS"
    "$VENV/bin/python" -m pip install -q --constraint "$CONSTRAINTS" -e "$ROOT[dev]"
    echo "$want" > "$stamp"
  fi
}

# deploy/constraints.txt made again: pyproject.toml's pins (and its dev tools') resolved afresh
# in a new virtualenv, everything they bring frozen. Run it after changing a pin, read the
# diff, run the suite, commit both.
lock() {
  ensure_python
  local work
  work="$(mktemp -d)"
  "$PYTHON" -m venv "$work/venv"
  "$work/venv/bin/python" -m pip install -q --upgrade pip wheel
  # Eager: the newest each pin allows, also of what the new virtualenv came with (setuptools).
  "$work/venv/bin/python" -m pip install -q --upgrade --upgrade-strategy eager -e "$ROOT[dev]"
  {
    sed -n '/^#/p' "$CONSTRAINTS"
    "$work/venv/bin/python" -m pip freeze --all --exclude-editable | grep -v -E '^(pip|wheel)=='
  } > "$work/constraints.txt"
  mv "$work/constraints.txt" "$CONSTRAINTS"
  rm -rf "$work"
  say "deploy/constraints.txt: $(grep -c '==' "$CONSTRAINTS") distributions locked"
}

ensure_rabbitmq() {
  port_open 5672 && return 0
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  say "starting RabbitMQ"
  as_root rabbitmq-server -detached
  wait_for_port 5672 RabbitMQ
  # The broker accepts connections a moment before it accepts vhost changes.
  for _ in $(seq 1 60); do as_root rabbitmqctl -q status >/dev/null 2>&1 && return 0; sleep 1; done
}

ensure_postgres() {
  if ! port_open 5432; then
    command -v pg_ctlcluster >/dev/null || apt_install postgresql
    local version
    version="$(ls /etc/postgresql | sort -V | tail -1)"
    say "starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
    wait_for_port 5432 PostgreSQL
  fi
  # A role and database for the tests, made once through the local superuser.
  as_root runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 <<SQL >/dev/null
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$CASEBOOK_TEST_PG_USER') THEN
    CREATE ROLE $CASEBOOK_TEST_PG_USER LOGIN CREATEDB PASSWORD '$CASEBOOK_TEST_PG_PASSWORD';
  END IF;
END \$\$;
SELECT 'CREATE DATABASE $CASEBOOK_TEST_PG_DB OWNER $CASEBOOK_TEST_PG_USER'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$CASEBOOK_TEST_PG_DB')\gexec
ALTER DATABASE $CASEBOOK_TEST_PG_DB OWNER TO $CASEBOOK_TEST_PG_USER;
SQL
}

ensure_tools() {
  # docker-compose validates deploy/compose.yaml in the tests (no Docker engine needed).
  command -v docker-compose >/dev/null || apt_install docker-compose
  ensure_promtool
}

# promtool checks deploy/prometheus and runs its alert tests (tests/unit/deploy/test_prometheus.py);
# prometheus scrapes the Compose stacks with it (tests/compose/). Debian ships both in the
# prometheus package, whose install starts a server: the package is unpacked instead, and the
# two binaries put in .venv/bin.
ensure_promtool() {
  if { command -v promtool >/dev/null || [ -x "$VENV/bin/promtool" ]; } &&
     { command -v prometheus >/dev/null || [ -x "$VENV/bin/prometheus" ]; }; then return 0; fi
  command -v apt-get >/dev/null || return 0
  local work
  work="$(mktemp -d)"
  say "unpacking promtool and prometheus from Debian's prometheus package into .venv/bin"
  if ! (cd "$work" && apt-get download -qq prometheus >/dev/null 2>&1); then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    (cd "$work" && apt-get download -qq prometheus >/dev/null)
  fi
  dpkg-deb -x "$work"/prometheus_*.deb "$work/unpacked"
  cp "$work/unpacked/usr/bin/promtool" "$work/unpacked/usr/bin/prometheus" "$VENV/bin/"
  rm -rf "$work"
}

# The console's browser tests drive Debian's Chromium (no browser download), need CJK fonts to
# render its Chinese pages, and Node to run the OpenID Connect provider they sign in at.
ensure_browser() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v npm >/dev/null || missing+=(nodejs npm)
  fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' || missing+=(fonts-noto-cjk)
  if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
}

ensure_docker_tools() {
  ensure_tools
  command -v dockerd >/dev/null || apt_install docker.io
  # The local images' Debian base, where no registry answers (deploy/images/debian-base.sh).
  command -v debootstrap >/dev/null || apt_install debootstrap
  command -v curl >/dev/null || apt_install curl
}

# The Compose test needs a Docker engine: the one that answers, else one of our own, stopped
# again at the end. With CASEBOOK_COMPOSE_OPTIONAL=1 (.ci/run), an engine that cannot start is
# a loud warning and a pass, so the rest of CI still counts; a failing test never is.
compose_test() {
  ensure_venv
  ensure_docker_tools
  ensure_promtool
  local engine errors
  errors="$(mktemp)"
  if ! engine="$(bash "$ROOT/deploy/engine.sh" start 2>"$errors")"; then
    local why
    why="$(cat "$errors")"
    rm -f "$errors"
    if [ "${CASEBOOK_COMPOSE_OPTIONAL:-}" = 1 ]; then
      printf '\n%s\n' "######################################################################" >&2
      printf 'WARNING: THE COMPOSE TEST DID NOT RUN: no Docker engine can start here.\n' >&2
      printf '%s\n' "$why" >&2
      printf '%s\n\n' "######################################################################" >&2
      return 0
    fi
    printf '%s\n' "$why" >&2
    return 1
  fi
  rm -f "$errors"
  local docker_host started
  docker_host="$(sed -n 's/^DOCKER_HOST=//p' <<<"$engine")"
  started="$(sed -n 's/^CASEBOOK_ENGINE_STARTED=//p' <<<"$engine")"
  if [ "$started" = 1 ]; then
    trap 'bash "$ROOT/deploy/engine.sh" stop' EXIT
  fi
  DOCKER_HOST="$docker_host" pytest "$@"
}

pytest() { "$VENV/bin/python" -m pytest "$@"; }

# The whole suite runs as two pytest processes side by side, on two halves of similar length:
# most of its time is spent waiting (services starting as processes, a broker restarting, a
# browser), so on two cores the halves together take about seven tenths of the time one
# process takes (measured: 14.3 minutes, not 20.8). Every test already has a vhost, a schema and
# ports of its own. Each half writes its own log, both shown when both have finished; the run
# fails if either half does. Paths given select those tests instead, in one process.
test_suite() {
  local arg
  for arg in "$@"; do
    if [ -e "$arg" ] || [ -e "${arg%%::*}" ]; then pytest "$@"; return; fi
  done
  local logs status=0 first second half
  logs="$(mktemp -d -t casebook-tests.XXXXXX)"
  say "running the suite as two halves side by side; follow them in $logs/*.log"
  # Each half in a process group of its own (job control): Ctrl-C reaches both, and each
  # pytest with the services it started, as it reaches one pytest run in the foreground.
  set -m
  # The first half is every test not in the second: a new directory of tests runs there.
  pytest tests --ignore=tests/e2e --ignore=tests/faults --ignore=tests/bench \
    --ignore=tests/compose --ignore=tests/cluster "$@" > "$logs/integration-and-unit.log" 2>&1 &
  first=$!
  pytest tests/e2e tests/faults "$@" > "$logs/e2e-and-faults.log" 2>&1 &
  second=$!
  set +m
  trap 'kill -INT -- "-$first" "-$second" 2>/dev/null' INT TERM
  for half in "$first" "$second"; do
    wait "$half" || status=1
    # A signal ends `wait` early: wait on until the half has finished its teardown.
    while kill -0 "$half" 2>/dev/null; do wait "$half" || status=1; done
  done
  trap - INT TERM
  cat "$logs/integration-and-unit.log" "$logs/e2e-and-faults.log"
  rm -rf "$logs"
  return "$status"
}

command="${1:-help}"
shift || true
case "$command" in
  install) ensure_venv ;;
  services) ensure_rabbitmq; ensure_postgres ;;
  run) ensure_venv; ensure_rabbitmq; exec "$VENV/bin/casebook" up "$@" ;;
  test) ensure_venv; ensure_rabbitmq; ensure_postgres; ensure_tools; ensure_browser
        test_suite "$@" ;;
  compose) compose_test tests/compose/test_compose_stack.py "$@" ;;
  # The cluster profile's Compose files started for real (tests/compose/test_compose_cluster.py).
  compose-cluster)
    CASEBOOK_COMPOSE_CLUSTER_TEST=1 compose_test tests/compose/test_compose_cluster.py "$@" ;;
  wheelhouse) ensure_venv; bash "$ROOT/deploy/images/wheelhouse.sh" ;;
  lock) lock ;;
  unit) ensure_venv; ensure_tools; pytest tests/unit "$@" ;;
  integration) ensure_venv; ensure_rabbitmq; ensure_postgres; pytest tests/integration "$@" ;;
  e2e) ensure_venv; ensure_rabbitmq; ensure_browser; pytest tests/e2e tests/faults "$@" ;;
  faults) ensure_venv; ensure_rabbitmq
    CASEBOOK_FAULT_MINUTES="${CASEBOOK_FAULT_MINUTES:-15}" \
      pytest tests/faults/test_fault_matrix.py -p no:cacheprovider -o timeout=0 "$@" ;;
  # The property tests with CASEBOOK_EXAMPLES_SCALE (default 10) times the examples the suite
  # tries: on SQLite and PostgreSQL, so both are started.
  properties) ensure_venv; ensure_rabbitmq; ensure_postgres
    CASEBOOK_EXAMPLES_SCALE="${CASEBOOK_EXAMPLES_SCALE:-10}" \
      pytest tests -m properties -p no:cacheprovider -o timeout=0 "$@" ;;
  # Three RabbitMQ nodes of its own, two instances of every service: three to five minutes. The
  # services' logs stay in its directory until the next run (pytest's own are rotated away).
  cluster) ensure_venv; ensure_rabbitmq; ensure_postgres
    CASEBOOK_CLUSTER_TEST=1 pytest tests/cluster -p no:cacheprovider -o timeout=0 -s \
      --basetemp="${CASEBOOK_CLUSTER_DIR:-/tmp/casebook-cluster-test}" "$@" ;;
  bench) ensure_venv; ensure_rabbitmq; ensure_postgres; "$VENV/bin/python" -m tests.bench "$@" ;;
  *) sed -n '2,8p' "$0"; exit 2 ;;
esac
