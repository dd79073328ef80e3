# S3 for the scaled e2e, where no S3 server image can be pulled: moto's S3
# server (the one the tests run, through tests/support/s3_server.py, which
# makes its writes atomic as S3's are) on the runtime base, installed from
# wheels run.sh downloads on the host (the build has no PyPI of its own).
# Keeps everything in memory. Started as `s3_server.py 0.0.0.0 9000`.
ARG RUNTIME_IMAGE=debian:bookworm-slim
FROM ${RUNTIME_IMAGE}
COPY wheels /tmp/wheels
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/moto \
    && /opt/moto/bin/pip install --quiet --no-index --find-links /tmp/wheels 'moto[server]==5.2.6' \
    && rm -rf /tmp/wheels
COPY s3_server.py /opt/s3_server.py
USER 10001:10001
EXPOSE 9000
ENTRYPOINT ["/opt/moto/bin/python", "/opt/s3_server.py"]
