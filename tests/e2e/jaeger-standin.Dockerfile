# The Jaeger stand-in's image, for machines where no Jaeger image can be had.
# tests/e2e/run.sh builds it from a context holding only the jaeger-standin
# binary, built on the host; the base must have the host's C library, which
# the default (Debian bookworm) has on this project's machines.
ARG RUNTIME_IMAGE=debian:bookworm-slim
FROM ${RUNTIME_IMAGE}
COPY jaeger-standin /usr/local/bin/jaeger-standin
USER 10001:10001
EXPOSE 4317 4318 16686
HEALTHCHECK --interval=2s --timeout=3s --retries=30 CMD ["jaeger-standin", "--healthcheck"]
ENTRYPOINT ["jaeger-standin"]
