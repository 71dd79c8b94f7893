# Stand-in for postgres:16-bookworm from Debian's own postgresql package (bookworm ships PostgreSQL 15, the
# only server on deb.debian.org; Hearth's migrations run on 15 and 16). Same contract as the official image:
# POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB, initdb on first start into /var/lib/postgresql/data,
# listening on 0.0.0.0:5432 with password (scram) authentication for remote clients, pg_isready on PATH.
ARG BASE=hearth-local/debian:bookworm
FROM ${BASE}
RUN apt-get update \
 && mkdir -p /etc/postgresql-common/createcluster.d \
 && echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/docker.conf \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --timeout=3s --retries=10 CMD pg_isready -h 127.0.0.1 -q || exit 1
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
