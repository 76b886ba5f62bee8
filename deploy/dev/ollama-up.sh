#!/usr/bin/env bash
# Makes sure Ollama answers at OLLAMA_HOST (default 127.0.0.1:11434): starts
# `ollama serve` in the background when Ollama is installed but not running,
# and says which model to pull when the base model is missing. Never fatal:
# evo answers with a clear message while Ollama is away.
set -uo pipefail
host=${OLLAMA_HOST:-127.0.0.1:11434}
case "$host" in http://*|https://*) url=$host ;; *) url=http://$host ;; esac
base=${BASE_MODEL:-qwen2.5:3b-instruct}

up() { curl -fsS -o /dev/null --max-time 2 "$url/api/version" 2>/dev/null; }

if ! up; then
  if command -v ollama >/dev/null 2>&1; then
    mkdir -p .cache
    echo "ollama-up: starting ollama serve (log: .cache/ollama-serve.log)" >&2
    OLLAMA_HOST=${url#http://} nohup ollama serve >.cache/ollama-serve.log 2>&1 &
    for _ in $(seq 1 50); do up && break; sleep 0.2; done
  fi
fi
if ! up; then
  echo "ollama-up: Ollama is not answering at $url; install it from https://ollama.com (evo still runs and says so)" >&2
  exit 0
fi
if ! curl -fsS --max-time 5 "$url/api/tags" | grep -q "\"$base\""; then
  echo "ollama-up: the base model is missing: run  ollama pull $base  (then: bin/evo experts sync)" >&2
fi
embed=${EMBED_MODEL:-bge-m3}
if ! curl -fsS --max-time 5 "$url/api/tags" | grep -q "\"$embed"; then
  echo "ollama-up: the embedding model for long-term memory is missing: run  ollama pull $embed" >&2
fi
