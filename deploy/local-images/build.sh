#!/usr/bin/env bash
# Base images for taizhang's compose file from a Debian mirror alone, for machines that
# cannot reach Docker Hub or ghcr.io (mainland China, closed networks). Needs debootstrap,
# Docker, and uv on this machine (pip install uv). Prints the lines to add to .env.
#
#   deploy/local-images/build.sh [--mirror URL] [--ca FILE]
#       --mirror  a Debian mirror (default http://deb.debian.org/debian; in mainland China,
#                 e.g. https://mirrors.tuna.tsinghua.edu.cn/debian)
#       --ca      the certificate authority of a TLS-inspecting proxy, trusted in the images
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mirror=http://deb.debian.org/debian
ca_file=
while [ $# -gt 0 ]; do
    case "$1" in
        --mirror) mirror=$2; shift 2 ;;
        --ca) ca_file=$2; shift 2 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done
prefix=taizhang-local

if ! docker image inspect "$prefix/debian:bookworm" >/dev/null 2>&1; then
    rootfs=$(mktemp -d)
    trap 'rm -rf "$rootfs"' EXIT
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror"
    echo "deb $mirror bookworm main" > "$rootfs/etc/apt/sources.list"
    tar -C "$rootfs" -c . | docker import - "$prefix/debian:bookworm"
fi

uv_bin=$(python3 -c "import uv; print(uv.find_uv_bin())" 2>/dev/null) \
    || { echo "uv is not installed here (python3 -m pip install uv)" >&2; exit 1; }
uv_version=$("$uv_bin" --version | awk '{print $2}')
context=$(mktemp -d)
cp "$uv_bin" "$context/uv"
docker build -q -f "$here/uv.Dockerfile" -t "$prefix/uv:$uv_version" "$context" >/dev/null
rm -rf "$context"

context=$(mktemp -d)
cp "$here"/*.Dockerfile "$here"/*.sh "$context/"
if [ -n "$ca_file" ]; then cp "$ca_file" "$context/office-ca.crt"; else : > "$context/office-ca.crt"; fi
for image in python:3.11-bookworm postgres:15-bookworm redis:7-bookworm; do
    name=${image%%:*}
    docker build -q -f "$context/$name.Dockerfile" -t "$prefix/$image" "$context" >/dev/null
done
rm -rf "$context"

cat <<ENV
# Base images built from $mirror (deploy/local-images/build.sh):
PYTHON_IMAGE=$prefix/python:3.11-bookworm
UV_IMAGE=$prefix/uv:$uv_version
POSTGRES_IMAGE=$prefix/postgres:15-bookworm
REDIS_IMAGE=$prefix/redis:7-bookworm
ENV
