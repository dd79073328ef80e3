# PostgreSQL for the scaled e2e, where the official `postgres` image cannot
# be pulled: Debian's package on the runtime base, taking the official
# image's POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB on first start
# and keeping its data in the same folder.
ARG RUNTIME_IMAGE=debian:bookworm-slim
FROM ${RUNTIME_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/postgresql/data \
    && chown postgres:postgres /var/lib/postgresql/data \
    && chmod 0700 /var/lib/postgresql/data
COPY postgres-standin-entrypoint.sh /usr/local/bin/postgres-standin
USER postgres
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/postgres-standin"]
