#!/bin/sh
# Like the official image: redis-server without protected mode (the container network is the boundary).
set -e
if [ "${1:-}" = redis-server ]; then
  shift
  exec redis-server --protected-mode no "$@"
fi
exec "$@"
