#!/usr/bin/env bash
# Builds the real Prometheus server and promtool (v0.316.0, i.e. Prometheus
# 3.x, from the Go module github.com/prometheus/prometheus) into
# .cache/bin/prometheus and .cache/bin/promtool, for the test that has a
# real Prometheus scrape `evo serve` (cmd/evo/prometheus_test.go). Cached: a
# second run does nothing. Prints the prometheus binary's absolute path on
# stdout (promtool lies next to it); messages go to stderr.
#
# Built with `go install …@v0.316.0`, without the builtinassets tag: the web
# UI's assets are not in the module, so the UI pages are missing, but the
# HTTP API (/api/v1/…) the test uses is all there. With remove_all_sd: the
# test scrapes a static target, and leaving out the cloud and Kubernetes
# service discoveries (their SDKs) makes the build several times faster.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
version=0.316.0
tags=remove_all_sd
bindir="$root/.cache/bin"
bin="$bindir/prometheus"
tool="$bindir/promtool"
stamp="$bindir/prometheus.version"

built() { [ -x "$bin" ] && [ -x "$tool" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version+$tags" ]; }
if built; then
  echo "$bin"
  exit 0
fi

# Test packages may ask for the binaries at the same time: one builds, the
# others wait for it.
mkdir -p "$bindir"
exec 9>"$bindir/prometheus.lock"
flock 9
if built; then
  echo "$bin"
  exit 0
fi

echo "prometheus.sh: building prometheus and promtool v$version (a few minutes, once)" >&2
start=$(date +%s)
tmp="$bindir/prometheus-build.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
(
  # `go install pkg@version` resolves the module's own dependency graph;
  # GOFLAGS from the caller (e.g. -mod=vendor) and a workspace must not leak
  # in. CGO is not needed.
  export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0 GOBIN="$tmp"
  go install -trimpath -tags "$tags" -ldflags "-s -w \
    -X github.com/prometheus/common/version.Version=$version \
    -X github.com/prometheus/common/version.Branch=v$version" \
    "github.com/prometheus/prometheus/cmd/prometheus@v$version" \
    "github.com/prometheus/prometheus/cmd/promtool@v$version" >&2
)
rm -f "$stamp"
mv "$tmp/prometheus" "$bin"
mv "$tmp/promtool" "$tool"
rm -rf "$tmp"
echo "$version+$tags" > "$stamp"
echo "prometheus.sh: built in $(( $(date +%s) - start ))s" >&2
echo "$bin"
