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
# The gateways: every port of CASEBOOK_PROXY_GATEWAY_PORTS (the cluster profile's two), else the
# one gateway's.
ports="${CASEBOOK_PROXY_GATEWAY_PORTS:-${CASEBOOK_HTTP_PORT:?}}"
gateways=""
for port in ${ports//,/ }; do
  if ! [[ "$port" =~ ^[0-9]{1,5}$ ]]; then
    echo "CASEBOOK_PROXY_GATEWAY_PORTS=$ports: '$port' is not a port; give the gateways'" \
         "ports separated by commas (8000,8001)" >&2
    exit 1
  fi
  gateways+="server 127.0.0.1:$port; "
done
sed -e "s|@HTTPS_ADDRESS@|$address|g" -e "s|@GATEWAYS@|$gateways|g" \
  -e "s|@CONSOLE_HTTPS_ADDRESS@|$console|g" -e "s|@CONSOLE_PORT@|${CASEBOOK_CONSOLE_PORT:?}|g" \
  /etc/nginx/casebook/nginx.conf.template > /tmp/nginx.conf
exec nginx -c /tmp/nginx.conf -g 'daemon off;'
