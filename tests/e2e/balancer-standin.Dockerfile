# The load balancer for the scaled e2e, where the official `nginx` image
# cannot be pulled: Debian's nginx-light and its stream module (for SMTP)
# on the runtime base, given deploy/compose/balancer.conf as its nginx.conf
# as the official image is.
ARG RUNTIME_IMAGE=debian:bookworm-slim
FROM ${RUNTIME_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx-light libnginx-mod-stream \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \
    && ln -sf /dev/stdout /var/log/nginx/access.log \
    && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 8080 8081 8082 8083 2525
CMD ["nginx", "-g", "daemon off;"]
