# kvserver in a container.
#
#   docker build -t kvserver .
#   docker run --rm -p 6379:6379 kvserver
#   docker run --rm -p 6379:6379 kvserver --maxmemory 100mb --requirepass s3cret
#
# The server reads /etc/kvserver/kvserver.conf (conf/kvserver.conf of this
# repository) and listens on every address (`bind * -::*`, protected mode
# off): access control is the container network's job, or `--requirepass`.
# Arguments after the image name are more directives, as for redis-server.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# Only what the package needs to build (see .dockerignore).
COPY pyproject.toml README.md /tmp/kvserver-src/
COPY kvserver /tmp/kvserver-src/kvserver
RUN pip install /tmp/kvserver-src \
    && rm -rf /tmp/kvserver-src \
    && kvserver --version

COPY conf/kvserver.conf /etc/kvserver/kvserver.conf

RUN useradd --system --user-group --home-dir /data --shell /usr/sbin/nologin kvserver \
    && mkdir -p /data \
    && chown kvserver:kvserver /data
USER kvserver
WORKDIR /data
VOLUME /data

EXPOSE 6379
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s \
    CMD ["python", "-c", "import socket; s = socket.create_connection(('127.0.0.1', 6379), 2); s.sendall(b'PING\\r\\n'); assert s.recv(7) == b'+PONG\\r\\n'"]

ENTRYPOINT ["kvserver", "/etc/kvserver/kvserver.conf", "--bind", "*", "-::*", "--protected-mode", "no"]
CMD []
