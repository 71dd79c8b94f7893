# Stand-in for redis:7-bookworm from Debian's redis-server (7.0 in bookworm): `redis-server` and `redis-cli` on
# PATH, data in /data, listening on every interface without protected mode like the official image.
ARG BASE=hearth-local/debian:bookworm
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && mkdir -p /data && chown redis:redis /data
WORKDIR /data
VOLUME /data
USER redis
COPY redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
EXPOSE 6379
HEALTHCHECK --interval=5s --timeout=3s --retries=10 CMD redis-cli ping | grep -q PONG
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server", "--bind", "0.0.0.0"]
