# The load balancer for the scaled e2e, where the official `nginx` image
# cannot be pulled: Debian's nginx-light on the runtime base, reading
# deploy/compose/balancer.conf from conf.d as the official image does.
ARG RUNTIME_IMAGE=debian:bookworm-slim
FROM ${RUNTIME_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx-light \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \
    && ln -sf /dev/stdout /var/log/nginx/access.log \
    && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 8080
CMD ["nginx", "-g", "daemon off;"]
