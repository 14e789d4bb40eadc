# RDS Emulator for the process driver, with every engine version's server tree built in (debootstrap). The
# install steps are scripts/setup.sh: the very script `make setup` runs (and the test suite checks), pinned by
# requirements.txt, so the image and a checkout install alike. Servers run from their trees in mount
# namespaces of their own: run the container with --cap-add SYS_ADMIN (docs/engines.md).
FROM debian:12
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        python3 python3-venv make && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/rds-emulator
COPY . .
RUN EXTRAS= GUESTS= scripts/setup.sh
EXPOSE 8765
VOLUME /var/lib/rds-emulator
# 0.0.0.0 inside the container only, so that a published port reaches it; DB servers stay on its loopback.
CMD [".venv/bin/rds-emulator", "serve", "--host", "0.0.0.0", "--port", "8765", "--data-dir", "/var/lib/rds-emulator"]
