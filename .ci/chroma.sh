#!/usr/bin/env bash
# Installs the real Chroma server (1.4.1, from the npm packages
# chromadb@3.4.0 and chromadb-js-bindings-linux-x64-gnu@1.3.1) into
# .cache/chroma/, for the tests that run against a real Chroma. Cached: a
# second run does nothing. Prints on stdout the absolute path of a launcher:
#
#   node "$(.ci/chroma.sh)" run --path DIR --port PORT
#
# The bindings 1.0.6–1.3.1 are linked against glibc 2.39 but need GLIBC_2.39
# for two weak symbols only; Debian 12 has glibc 2.36, so after every
# install the .node file's GLIBC_2.39 version need is marked weak (a Go
# program: memory/chroma/chromatest/internal/weakglibc). Bindings 1.3.2+
# need glibc 2.38 for strong symbols and cannot load here: keep the pins.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
chromadb=3.4.0
bindings=1.3.1
dir="$root/.cache/chroma"
launcher="$dir/run.cjs"
node_file="$dir/node_modules/chromadb-js-bindings-linux-x64-gnu/chromadb-js-bindings.linux-x64-gnu.node"
stamp="$dir/installed.version"
want="chromadb@$chromadb chromadb-js-bindings-linux-x64-gnu@$bindings weak-glibc-2.39"

installed() { [ -f "$launcher" ] && [ -f "$node_file" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; }
if installed; then
  echo "$launcher"
  exit 0
fi

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "chroma.sh: the pinned Chroma server package is for Linux x86-64 (glibc) only; this is $(uname -s)-$(uname -m)" >&2
  exit 1
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "chroma.sh: Node.js (20 or newer) and npm are needed to install the Chroma server for the tests." >&2
  echo "chroma.sh: install them, e.g. 'apt-get install nodejs npm' (Debian 13) or from https://nodejs.org" >&2
  exit 1
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "chroma.sh: chromadb@$chromadb needs Node.js 20 or newer; this is $(node --version)" >&2
  exit 1
fi

# Test packages may ask for the server at the same time: one installs, the
# others wait for it.
mkdir -p "$dir"
exec 9>"$dir/install.lock"
flock 9
if installed; then
  echo "$launcher"
  exit 0
fi

echo "chroma.sh: installing chromadb@$chromadb with chromadb-js-bindings-linux-x64-gnu@$bindings (about 50 MB, once)" >&2
start=$(date +%s)
rm -f "$stamp"
cat > "$dir/package.json" <<JSON
{
  "name": "evo-chroma-server",
  "private": true,
  "description": "The Chroma server the tests of EVO-TR run; written by .ci/chroma.sh.",
  "dependencies": {
    "chromadb": "$chromadb",
    "chromadb-js-bindings-linux-x64-gnu": "$bindings"
  }
}
JSON
(cd "$dir" && npm install --no-audit --no-fund --loglevel=error >&2)

# npm re-extracts the file on every install: patch after each one. The
# patch is idempotent.
(
  # Our module resolves as the caller has it; only the standard library is
  # imported.
  export GOWORK=off
  go run ./memory/chroma/chromatest/internal/weakglibc -version GLIBC_2.39 "$node_file" >&2
)
if ! (cd "$dir" && node -e "require('chromadb-js-bindings-linux-x64-gnu')" >&2); then
  echo "chroma.sh: the Chroma server bindings do not load on this machine (see above)" >&2
  exit 1
fi

cat > "$launcher" <<'JS'
// Runs the Chroma server CLI from the npm bindings, e.g.
//   node run.cjs run --path DIR --port PORT
// Written by .ci/chroma.sh. Stop the server with SIGINT.
require('chromadb-js-bindings-linux-x64-gnu').cli(['chroma', ...process.argv.slice(2)]);
JS
echo "$want" > "$stamp"
echo "chroma.sh: installed in $(( $(date +%s) - start ))s" >&2
echo "$launcher"
