#!/usr/bin/env bash
# The proxy's entrypoint in deploy/compose.prod.yaml: nginx.conf reads no environment
# variables, so its addresses are filled in here from deploy/.env; then nginx runs in the
# foreground. `start.sh check` is the health check: the TLS listener accepts connections.
set -euo pipefail
address="${CASEBOOK_HTTPS_ADDRESS:?}"
console="${CASEBOOK_CONSOLE_HTTPS_ADDRESS:?}"
if [ "${1:-}" = check ]; then
  exec 3<>"/dev/tcp/${address%:*}/${address##*:}"
  exec 4<>"/dev/tcp/${console%:*}/${console##*:}"
  exit 0
fi
sed -e "s|@HTTPS_ADDRESS@|$address|g" -e "s|@HTTP_PORT@|${CASEBOOK_HTTP_PORT:?}|g" \
  -e "s|@CONSOLE_HTTPS_ADDRESS@|$console|g" -e "s|@CONSOLE_PORT@|${CASEBOOK_CONSOLE_PORT:?}|g" \
  /etc/nginx/casebook/nginx.conf.template > /tmp/nginx.conf
exec nginx -c /tmp/nginx.conf -g 'daemon off;'
