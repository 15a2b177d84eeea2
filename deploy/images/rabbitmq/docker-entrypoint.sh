#!/usr/bin/env bash
# Started as root, as the official image's entrypoint is: hand the data directory to the
# rabbitmq user and run the broker as that user.
set -euo pipefail
if [ "${1:-}" = rabbitmq-server ] && [ "$(id -u)" = 0 ]; then
  chown -R rabbitmq:rabbitmq /var/lib/rabbitmq
  exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups \
    env HOME=/var/lib/rabbitmq "$@"
fi
exec "$@"
