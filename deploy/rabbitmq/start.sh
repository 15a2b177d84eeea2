#!/usr/bin/env bash
# The broker's entrypoint in deploy/compose.yaml: rabbitmq.conf reads no environment variables,
# so the listeners, on 127.0.0.1 at the ports of deploy/.env, are written here; then the image's
# own entrypoint starts the broker.
set -euo pipefail
cat > /etc/rabbitmq/conf.d/30-casebook-listeners.conf <<CONF
listeners.tcp.default = 127.0.0.1:${CASEBOOK_AMQP_PORT:?}
management.tcp.ip = 127.0.0.1
management.tcp.port = ${CASEBOOK_RABBITMQ_UI_PORT:?}
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = ${CASEBOOK_RABBITMQ_METRICS_PORT:?}
CONF
# A cluster's nodes (deploy/compose.cluster.yaml) share one Erlang cookie, a Compose secret: the
# node reads it from its home, readable by its owner alone.
if [ -n "${CASEBOOK_ERLANG_COOKIE_FILE:-}" ]; then
  install -m 0400 -o rabbitmq -g rabbitmq "$CASEBOOK_ERLANG_COOKIE_FILE" \
    /var/lib/rabbitmq/.erlang.cookie
fi
exec docker-entrypoint.sh "$@"
