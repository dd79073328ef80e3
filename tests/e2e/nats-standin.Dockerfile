# NATS for the scaled e2e, where the official `nats` image cannot be pulled:
# Debian's nats-server (2.9, JetStream) on the runtime base. Started with
# the command deploy/compose/scale.yml gives (`-js -sd /data -m 8222`).
ARG RUNTIME_IMAGE=debian:bookworm-slim
FROM ${RUNTIME_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends nats-server \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data && chown 10001:10001 /data
USER 10001:10001
EXPOSE 4222 8222
ENTRYPOINT ["/usr/sbin/nats-server"]
