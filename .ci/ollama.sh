#!/usr/bin/env bash
# Builds the real Ollama server (v0.6.5, CPU only) from its Go module into
# .cache/bin/ollama, for the tests that run against a real Ollama. Cached: a
# second run does nothing. Prints the binary's absolute path on stdout.
#
# v0.6.5 is pinned on purpose: it is the newest release whose module zip
# builds offline (newer ones lack llama.cpp's vendored headers) and it still
# creates LoRA adapter models (v0.34.1+ refuses them).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
version=0.6.5
bin="$root/.cache/bin/ollama"
stamp="$root/.cache/bin/ollama.version"

built() { [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; }
if built; then
  echo "$bin"
  exit 0
fi

# Test packages may ask for the binary at the same time: one builds, the
# others wait for it.
mkdir -p "$root/.cache/bin"
exec 9>"$root/.cache/bin/ollama.lock"
flock 9
if built; then
  echo "$bin"
  exit 0
fi

# llama.cpp's cgo build includes these system headers.
if ! [ -f /usr/include/nlohmann/json.hpp ] || ! [ -f /usr/include/stb/stb_image.h ] || ! command -v g++ >/dev/null; then
  echo "ollama.sh: installing nlohmann-json3-dev libstb-dev g++" >&2
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    nlohmann-json3-dev libstb-dev g++ >&2
fi

mod="$root/.cache/ollama-build"
mkdir -p "$mod"
cat > "$mod/go.mod" <<MOD
module evo-ollama-build

go 1.24

require github.com/ollama/ollama v$version
MOD
cat > "$mod/tools.go" <<'GO'
//go:build tools

// Package tools pins the Ollama server this folder builds.
package tools

import _ "github.com/ollama/ollama"
GO

echo "ollama.sh: building ollama v$version (about 3 minutes on 2 cores, once)" >&2
start=$(date +%s)
(
  cd "$mod"
  # The helper module resolves its own dependency graph; GOFLAGS from the
  # caller (e.g. -mod=vendor) must not leak in.
  export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=1
  go mod download github.com/ollama/ollama >&2
  go get github.com/ollama/ollama@v$version >&2
  go build -trimpath \
    -ldflags "-s -w -X github.com/ollama/ollama/version.Version=$version" \
    -o "$bin.tmp" github.com/ollama/ollama >&2
)
rm -f "$stamp"
mv "$bin.tmp" "$bin"
echo "$version" > "$stamp"
echo "ollama.sh: built in $(( $(date +%s) - start ))s" >&2
echo "$bin"
