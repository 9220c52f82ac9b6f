# Multi-stage build: compile in the Rust image, run from a slim Debian with only the binary.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
# Cargo reads every target the manifest names, the benchmark included, before it builds.
COPY benches ./benches
RUN cargo build --release --locked && strip target/release/rotary

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 rotary
COPY --from=build /src/target/release/rotary /usr/local/bin/rotary
USER rotary
ENV ROTARY_LISTEN=0.0.0.0:8080 ROTARY_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["rotary"]
CMD ["serve"]
