#!/usr/bin/env bash
# The committed audits (issue 7 item 4): each MNIST-family hashed model against its dense model, 1000 test
# images (the query-based attacks on the first 100), seed 1. Writes docs/audit/<family>.{json,md,html}.
set -euo pipefail
run() { echo "+ $*"; "$@"; }
run npx bun run audit -- --model models/mnist-lenet5-h8 --n 1000 --seed 1
run npx bun run audit -- --model models/mnist-mlp-h8 --n 1000 --seed 1
run npx bun run audit -- --model models/fashion-lenet5-h8 --n 1000 --seed 1
