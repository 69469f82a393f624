#!/bin/sh
# Entrypoint of the Aftersales service images (see infra/Dockerfile).
#
#   (no arguments) | serve   ->  python -m "$SERVICE"
#   anything else            ->  run it as given, e.g.
#                                  python -m tickets migrate
#                                  python -m aftersales_shared.provision apply --nats-url nats://nats:4222 --replicas 3
#
# Settings read only <PREFIX>_* variables (PREFIX = upper-case service name).
# Their defaults suit a developer laptop (127.0.0.1, a per-service port); inside a
# container the service must listen on all interfaces, so <PREFIX>_HOST defaults to
# 0.0.0.0 and <PREFIX>_PORT to 8000 here unless the environment already sets them.
set -eu

: "${SERVICE:?SERVICE is not set; it is baked in with docker build --build-arg SERVICE=<name>}"
prefix=$(printf '%s' "$SERVICE" | tr '[:lower:]' '[:upper:]')

printenv "${prefix}_HOST" >/dev/null || export "${prefix}_HOST=0.0.0.0"
printenv "${prefix}_PORT" >/dev/null || export "${prefix}_PORT=8000"

if [ "$#" -eq 0 ] || [ "$1" = "serve" ]; then
    set -- python -m "$SERVICE"
fi

# exec: the process gets PID 1 and receives SIGTERM from docker stop / the kubelet.
exec "$@"
