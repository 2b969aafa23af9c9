#!/usr/bin/env bash
# Issue 7 item 2: every gradient-inhibition configuration on every committed classifier, full test split.
# Writes one JSON line per run to docs/gi-measurements.jsonl (the README table is made from it by
# scripts/gi-table.ts). The hardened models go to a temporary directory; only the measurements are kept.
set -euo pipefail
out=docs/gi-measurements.jsonl
tmp=$(mktemp -d)
mkdir -p docs
: > "$out.tmp"
for m in mnist-mlp mnist-mlp-h8 mnist-lenet5 mnist-lenet5-h8 fashion-lenet5 fashion-lenet5-h8; do
  for gi in scale:100 magnitude:auto random:50,150,0.05; do
    npx bun run harden -- --model "models/$m" --gi "$gi" --seed 1 --out "$tmp/$m-$gi" 2>/dev/null | tail -n 1 | sed "s|^{|{\"source\":\"$m\",|" >> "$out.tmp"
  done
done
mv "$out.tmp" "$out"
rm -rf "$tmp"
echo "wrote $out"
