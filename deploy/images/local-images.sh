#!/usr/bin/env bash
# Every image deploy/compose.yaml and compose.prod.yaml run, built without any container
# registry: a Debian base made with debootstrap (debian-base.sh), and on it Python 3.11,
# RabbitMQ, PostgreSQL and nginx from Debian's packages, installed by apt-get from the Debian
# mirror the host uses. --refresh makes them all anew, with the updates published since.
#   bash deploy/images/local-images.sh [--refresh]      (make local-images)
# Prints the settings that make Compose use them, for deploy/.env:
#   CASEBOOK_BASE_IMAGE, CASEBOOK_RABBITMQ_IMAGE, CASEBOOK_POSTGRES_IMAGE, CASEBOOK_PROXY_IMAGE
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEBIAN_IMAGE="${CASEBOOK_DEBIAN_IMAGE:-casebook/debian:bookworm}"
export CASEBOOK_DEBIAN_IMAGE="$DEBIAN_IMAGE"

refresh=false
[ "${1:-}" = --refresh ] && refresh=true

say() { printf 'local-images: %s\n' "$*" >&2; }

if $refresh; then
  bash "$HERE/debian-base.sh" --refresh
else
  bash "$HERE/debian-base.sh"
fi

build() {  # variable, image, directory under deploy/images/
  local variable=$1 image=$2 directory=$3 log
  local options=(--network host --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" --tag "$image")
  # Built every time: Docker's layer cache makes that instant unless a Dockerfile changed.
  # --refresh also runs apt-get again, for the updates published since.
  $refresh && options+=(--no-cache)
  log="$(mktemp)"
  # The build's apt-get reaches the mirror through the host's network (an engine started with
  # --bridge=none has no other).
  if ! docker build "${options[@]}" "$HERE/$directory" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    say "building $image failed"
    exit 1
  fi
  rm -f "$log"
  printf '%s=%s\n' "$variable" "$image"
}

build CASEBOOK_BASE_IMAGE casebook/python:3.11-bookworm python
build CASEBOOK_RABBITMQ_IMAGE casebook/rabbitmq:3.10-bookworm rabbitmq
build CASEBOOK_POSTGRES_IMAGE casebook/postgres:15-bookworm postgres
build CASEBOOK_PROXY_IMAGE casebook/nginx:1.22-bookworm nginx
