# Python 3.11 on Debian bookworm, in place of python:3.11-slim-bookworm. office-ca.crt is the
# office's own certificate authority (a TLS-inspecting proxy), or empty: trusted by apt, uv
# and Python alike.
ARG DEBIAN_IMAGE=taizhang-local/debian:bookworm
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv python-is-python3 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY office-ca.crt /usr/local/share/ca-certificates/office-ca.crt
RUN update-ca-certificates
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
