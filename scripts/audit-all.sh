#!/usr/bin/env bash
# The committed audits: each MNIST-family hashed model against its dense model, 1000 test
# images (the query-based attacks on the first 100), seed 1. Writes docs/audit/<family>.{json,md,html}, replacing the
# committed reports on purpose (--out … --force; without --out an audit writes to a new folder under runs/).
set -euo pipefail
run() { echo "+ $*"; "$@"; }
run npx bun run audit -- --model models/mnist-lenet5-h8 --n 1000 --seed 1 --out docs/audit/mnist-lenet5 --force
run npx bun run audit -- --model models/mnist-mlp-h8 --n 1000 --seed 1 --out docs/audit/mnist-mlp --force
run npx bun run audit -- --model models/fashion-lenet5-h8 --n 1000 --seed 1 --out docs/audit/fashion-lenet5 --force
# CIFAR-10 (JPEG): the full audit, 1000 test images (query-based attacks on the first 100), seed 1, in
# two parts run side by side (one core each; GI random's EOT-PGD costs about as much as the other four
# configurations together), then joined into one report. The parts go to logs/audit-parts/ (not committed).
cifar=(--model models/cifar10-cnn-h8 --n 1000 --n-query 100 --seed 1)
mkdir -p logs/audit-parts
run npx bun run audit -- "${cifar[@]}" --configurations dense,hashed,scale,magnitude --out logs/audit-parts/cifar10-cnn-a --force &
a=$!
run npx bun run audit -- "${cifar[@]}" --configurations random --out logs/audit-parts/cifar10-cnn-b --force &
b=$!
wait $a; wait $b   # set -e: a failed part stops here
run npx bun run audit -- --merge logs/audit-parts/cifar10-cnn-a.json,logs/audit-parts/cifar10-cnn-b.json --out docs/audit/cifar10-cnn --force
