#!/usr/bin/env bash
# The release build `make run` serves (and the browser benchmarks measure): the console binary and
# its front end with precompressed /pkg (scripts/site-build: `--release --precompress --split`).
# Skipped when the last one is complete and nothing it is built from changed since, so a second
# `make run` starts the server in about a second. Says what it does and roughly how long it takes.
set -euo pipefail
cd "$(dirname "$0")/.."
# As in the Makefile: npm's binaryen (wasm-opt) and esbuild before any older one.
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"

stamp=target/release/.release-build
# Everything the binary or the site is built from (the server embeds its catalog and migrations).
inputs=(Cargo.toml Cargo.lock app/Cargo.toml app/src server/Cargo.toml server/src server/catalog
  server/migrations server/migrations-postgres style public scripts/site-build)

# Why the last build cannot be served as it is, or nothing when it can.
stale() {
  [ -f "$stamp" ] || { echo "no release build yet"; return; }
  [ -x target/release/a55-console ] || { echo "target/release/a55-console is missing"; return; }
  local changed
  changed="$(find "${inputs[@]}" -newer "$stamp" -type f -print -quit 2>/dev/null)"
  [ -z "$changed" ] || { echo "$changed changed"; return; }
  # Another build (`make test` builds a debug front end into the same site) may have replaced /pkg.
  local kind hash file
  while read -r kind hash; do
    case "$kind" in js: | wasm: | css:) ;; *) continue ;; esac
    file="target/site/pkg/a55-console.$hash.${kind%:}"
    [ -f "$file" ] && [ -f "$file.br" ] || { echo "$file (or its .br) is missing"; return; }
  done < target/release/hash.txt
}

reason="$(stale)"
if [ -z "$reason" ]; then
  echo "Release build is up to date (nothing in app/, server/, style/, public/ or Cargo.* changed since $(date -r "$stamp" '+%F %T'))"
  exit 0
fi

echo "Building the release: $reason."
if [ ! -d target/front ] || [ ! -d target/release/deps ]; then
  echo "  First build here: the site builder (about 1.5 min), then the WASM front end (its dependencies,"
  echo "  fat LTO, the split, wasm-opt: about 6 min) and the server (some 450 dependencies) side by side:"
  echo "  about 12 min more on 2 idle cores. Each step is named below as it starts. See BENCHMARKS.md, \"First run\"."
else
  echo "  Only what changed is rebuilt: a change to app/ rebuilds the front end (about 3 min on 2 cores)"
  echo "  and the server's crates that use it."
fi
start=$(date +%s)
# Stamped with the time the build started, so that a file edited during the build counts as changed.
mkdir -p target/release
rm -f "$stamp"
touch "$stamp.next"
cargo run --profile tools -p site-build -- --release --precompress --split
mv "$stamp.next" "$stamp"
secs=$(($(date +%s) - start))
echo "Release built in $((secs / 60)) min $((secs % 60)) s."
