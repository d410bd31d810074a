# Parley in a container: a static binary on a distroless base, as a
# non-root user, with its data in the /data volume.
#
#   docker build -t parley .
#   docker run -v parley-data:/data -v ./parley.yaml:/etc/parley/parley.yaml:ro \
#     -e PARLEY_MASTODON_TOKEN=... -p 8080:8080 parley
#
# See deploy/compose.yaml and docs/operations.md.

FROM golang:1.26.10-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=docker
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/parley ./cmd/parley \
	&& mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/parley /usr/local/bin/parley
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV PARLEY_CONFIG=/etc/parley/parley.yaml \
	PARLEY_DATA=/data \
	PARLEY_ADDR=0.0.0.0:8080
VOLUME ["/data"]
EXPOSE 8080
# The image has no shell or curl: parley probes its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
	CMD ["/usr/local/bin/parley", "health", "--timeout", "4s"]
ENTRYPOINT ["/usr/local/bin/parley"]
CMD ["run"]
