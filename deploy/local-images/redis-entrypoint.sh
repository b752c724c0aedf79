#!/bin/sh
# As the official image does: a redis-server started without a config file accepts other
# containers (protected mode off; keep the port off the host's public addresses).
set -eu
if [ "${1:-}" = "redis-server" ]; then
    shift
    exec redis-server --protected-mode no "$@"
fi
exec "$@"
