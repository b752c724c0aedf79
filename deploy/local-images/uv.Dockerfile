# uv alone at /uv, in place of ghcr.io/astral-sh/uv (the binary is given in the context).
FROM scratch
COPY uv /uv
