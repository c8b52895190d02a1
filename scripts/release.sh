#!/usr/bin/env bash
# The release build `make run` serves (and the browser benchmarks measure): the console binary and
# its front end with precompressed /pkg (`cargo leptos build --release --precompress --split`).
# Skipped when the last one is complete and nothing it is built from changed since, so a second
# `make run` starts the server in about a second. Says what it does and roughly how long it takes.
set -euo pipefail
cd "$(dirname "$0")/.."
# As in the Makefile: npm's binaryen (wasm-opt) before any older one, then cargo-leptos and wasm-bindgen.
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"

stamp=target/release/.release-build
# Everything the binary or the site is built from (the server embeds its catalog and migrations).
inputs=(Cargo.toml Cargo.lock app/Cargo.toml app/src server/Cargo.toml server/src server/catalog
  server/migrations server/migrations-postgres style public)

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
  echo "  First build here: the WASM front end (its dependencies, wasm-bindgen, wasm-opt, the split: about"
  echo "  8 min on 2 idle cores), then the server (some 450 dependencies, then fat LTO on one thread:"
  echo "  about 17 min more; 45 min when other builds share the cores). See BENCHMARKS.md, \"First run\"."
else
  echo "  Only what changed is rebuilt: a change to app/ rebuilds the front end (about 3 min on 2 cores)"
  echo "  and then the server's last step, fat LTO on one thread: about 4 min of CPU, 13 min on a busy machine."
fi
start=$(date +%s)
# Stamped with the time the build started, so that a file edited during the build counts as changed.
rm -f "$stamp"
touch "$stamp.next"
cargo leptos build --release --precompress --split
mv "$stamp.next" "$stamp"
secs=$(($(date +%s) - start))
echo "Release built in $((secs / 60)) min $((secs % 60)) s."
