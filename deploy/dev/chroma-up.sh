#!/usr/bin/env bash
# Makes sure a Chroma server (long-term memory) answers at CHROMA_URL
# (default http://127.0.0.1:8000), keeping its data in data/chroma. On Linux
# x86-64 it uses the server .ci/chroma.sh installs from npm; elsewhere
# (macOS) it runs `npx chromadb run` when npx is there. Prints the URL on
# stdout. Never fatal: without Chroma evo answers without long-term memory.
set -uo pipefail
cd "$(dirname "$0")/../.."
url=${CHROMA_URL:-http://127.0.0.1:8000}
hostport=${url#*://}
hostport=${hostport%%/*}
host=${hostport%:*}
port=${hostport##*:}
data=${CHROMA_DATA:-data/chroma}

up() { curl -fsS -o /dev/null --max-time 2 "$url/api/v2/heartbeat" 2>/dev/null; }

if ! up; then
  mkdir -p "$data" .cache
  if [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] && launcher=$(.ci/chroma.sh 2>.cache/chroma-install.log); then
    echo "chroma-up: starting Chroma on $host:$port (data: $data, log: .cache/chroma-serve.log)" >&2
    nohup node "$launcher" run --path "$data" --host "$host" --port "$port" >.cache/chroma-serve.log 2>&1 &
  elif command -v npx >/dev/null 2>&1; then
    echo "chroma-up: starting Chroma with npx on $host:$port (data: $data, log: .cache/chroma-serve.log)" >&2
    nohup npx --yes chromadb run --path "$data" --host "$host" --port "$port" >.cache/chroma-serve.log 2>&1 &
  fi
  for _ in $(seq 1 100); do up && break; sleep 0.2; done
fi
if ! up; then
  echo "chroma-up: Chroma is not answering at $url; long-term memory stays off (see .cache/chroma-*.log)" >&2
  exit 0
fi
echo "$url"
