# RDS Emulator for the process driver (docs/docker.md). The install steps are scripts/setup.sh: the very
# script `make setup` runs, pinned by requirements.txt, so the image and a checkout install alike. The
# engines' server trees are built from Debian's packages at the first start, into the cache volume (a build
# cannot mount what debootstrap and the servers' namespaces need); servers run from them in mount namespaces
# of their own: run the container with --cap-add SYS_ADMIN.
FROM debian:12
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        python3 python3-venv make debootstrap openssl ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/rds-emulator
COPY . .
RUN EXTRAS= GUESTS= scripts/setup.sh
ENV RDS_EMULATOR_CACHE_DIR=/var/cache/rds-emulator RDS_EMULATOR_PORTS=13306-13405
EXPOSE 8765 13306-13405
VOLUME ["/var/lib/rds-emulator", "/var/cache/rds-emulator"]
ENTRYPOINT ["scripts/docker-entrypoint.sh"]
