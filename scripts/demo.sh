#!/usr/bin/env bash
# Runs xlate's main job on a fresh machine with no API key and no internet:
# builds xlate and the in-repo fake OpenAI-compatible server, starts the fake
# on a free loopback port, and translates a whole directory (default: the
# bundled corpus) into OUT (default: out/demo). The fake "translates" into
# deterministic pseudo-English, so the output shows xlate's real layout,
# front matter, summary and caching, not real translations.
#
#   scripts/demo.sh [INPUT_DIR] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
in=${1:-testdata/corpus}
out=${2:-out/demo}

bin=$(mktemp -d)
trap 'kill "$fake_pid" 2>/dev/null || true; rm -rf "$bin"' EXIT
go build -buildvcs=true -o "$bin/xlate" .
go build -o "$bin/fakeopenai" ./cmd/fakeopenai

"$bin/fakeopenai" -addr 127.0.0.1:0 -model "" >"$bin/url" &
fake_pid=$!
for _ in $(seq 50); do [ -s "$bin/url" ] && break; sleep 0.1; done
[ -s "$bin/url" ] || { echo "demo: the fake server did not start" >&2; exit 1; }

# The cache and the translation memory live and die with the demo.
export OPENAI_BASE_URL=$(head -n1 "$bin/url") XLATE_CACHE_DIR="$bin/cache" XLATE_MEMORY_DIR="$bin/memory"
echo "first run (fake server at $OPENAI_BASE_URL):"
"$bin/xlate" -o "$out" "$in"
echo "second run (everything from the cache, no requests):"
"$bin/xlate" -o "$out" "$in"
echo "outputs in $out/"
