# Multi-stage build: compile in the Rust image, run on Debian slim with only libpq.
FROM rust:1-bookworm AS build
WORKDIR /src
# npm: the xtask takes binaryen's wasm-opt from it (Debian's is too old) to optimise the bundles.
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev nodejs npm && rm -rf /var/lib/apt/lists/*
COPY . .
# The optimised web app (wasm32 target, the pinned wasm-bindgen and wasm-split CLIs and
# binaryen are installed by the xtask; brotli and gzip twins of every file are sent as they
# are) and the release server. The same script runs in CI (.ci/run), so these commands are
# tested without Docker.
RUN sh deploy/build.sh /usr/local

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/invitegate --create-home invitegate \
 && mkdir /data && chown invitegate:invitegate /data && chmod 700 /data
COPY --from=build /usr/local/bin/invitegate /usr/local/bin/invitegate
COPY --from=build /usr/local/share/invitegate-web /usr/share/invitegate/web
USER invitegate
WORKDIR /var/lib/invitegate
ENV INVITEGATE_BIND=0.0.0.0:8080 \
    INVITEGATE_WEB_DIR=/usr/share/invitegate/web \
    INVITEGATE_DATA_DIR=/data
# The signing secrets, the SQLite database when no PostgreSQL is configured, and emails
# written to files: keep this volume.
VOLUME ["/data"]
EXPOSE 8080
# No shell or curl involved: the binary asks `GET /readyz` on the configured bind address
# (INVITEGATE_BIND, or `bind` in the file INVITEGATE_CONFIG names: pass a file that way, not
# with `--config`, so the health check reads it too).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s CMD ["invitegate", "healthcheck"]
ENTRYPOINT ["invitegate"]
CMD ["serve"]
