#!/usr/bin/env bash
# Release bundle size: the gzip -9 size of the app's WASM + JS + CSS against the committed budget
# in benchmarks/bundle-budget.txt.
#   bundle-size.sh check   <pkg dir>   fail (exit 1) when the total is over the budget, naming what grew
#   bundle-size.sh section <pkg dir>   also write benchmarks/sections/50-bundle-size.md
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:?usage: bundle-size.sh check|section <pkg dir>}"
pkg="${2:?usage: bundle-size.sh check|section <pkg dir>}"
budget_file="$root/benchmarks/bundle-budget.txt"
files=(a55-console.wasm a55-console.js a55-console.css)

# 1234567 -> 1,234,567 (without relying on an installed locale)
group() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
baseline() { awk -v f="$1" '$1 == f {print $2}' "$budget_file"; }

budget="$(baseline budget)"
total_raw=0 total_gz=0 total_base=0 rows="" growth=""
# The build names files by content hash (a55-console.<hash>.wasm): take the newest of each kind.
newest() {
  local stem="${1%.*}" ext="${1##*.}"
  { ls -t "$pkg/$stem".*."$ext" "$pkg/$1" 2>/dev/null || true; } | head -1
}
for f in "${files[@]}"; do
  path="$(newest "$f")"
  if [ -z "$path" ] || [ ! -f "$path" ]; then
    echo "bundle size: no $f (or its hashed name) in $pkg; build the release front end first (make bundle-size)" >&2
    exit 2
  fi
  raw="$(wc -c < "$path")"
  gz="$(gzip -9 -c "$path" | wc -c)"
  base="$(baseline "$f")"
  total_raw=$((total_raw + raw)) total_gz=$((total_gz + gz)) total_base=$((total_base + base))
  diff=$((gz - base))
  rows+="| \`$f\` | $(group "$raw") B | $(group "$gz") B | $(group "$base") B |"$'\n'
  growth+="  $f: $(group "$gz") B gzip, $( [ "$diff" -ge 0 ] && echo "+$(group "$diff")" || echo "-$(group $((-diff)))") B against its baseline of $(group "$base") B"$'\n'
done
rows+="| total | $(group "$total_raw") B | $(group "$total_gz") B | $(group "$total_base") B |"$'\n'

if [ "$total_gz" -gt "$budget" ]; then
  {
    echo "bundle size: the release WASM + JS + CSS is $(group "$total_gz") B gzip, over the budget of $(group "$budget") B by $(group $((total_gz - budget))) B."
    echo "What grew:"
    printf '%s' "$growth"
    echo "Make the bundle smaller, or raise the budget in benchmarks/bundle-budget.txt (and say why in the commit)."
  } >&2
  exit 1
fi
echo "bundle size: $(group "$total_gz") B gzip, within the budget of $(group "$budget") B ($(group $((budget - total_gz))) B to spare)"
printf '%s' "$growth"

if [ "$mode" = section ]; then
  kb() { echo "$(( ($1 + 500) / 1000 )) KB"; }
  cat > "$root/benchmarks/sections/50-bundle-size.md" <<SECTION
## Release bundle size

How to rerun: \`make bundle-size\` (\`cargo leptos build --release --frontend-only\` into its own site
directory, then \`benchmarks/bundle-size.sh\`). CI runs the same check in \`make test\` and fails when the
gzip total exceeds the budget in \`benchmarks/bundle-budget.txt\` (the baseline total + 10 %), naming
each file's growth.

Measured $(date -u +%Y-%m-%d): profile \`wasm-release\` (opt-level z, LTO, one codegen unit,
panic=abort), \`wasm-opt\` $(wasm-opt --version 2>/dev/null | awk '{print $3}' || echo '?') from npm \`binaryen\`, gzip -9.

| file | raw | gzip | gzip baseline |
| --- | --- | --- | --- |
${rows}
Budget: $(group "$budget") B gzip for the three files together; this build is $(kb "$total_gz").
For reference (gzip): RapiDoc 218 KB, Swagger UI 565 KB, Scalar 989 KB. The WASM carries the whole
console (request builder, inspector, token and audit pages).
SECTION
  echo "wrote benchmarks/sections/50-bundle-size.md"
fi
