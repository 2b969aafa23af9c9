#!/usr/bin/env bash
# The committed audits (issue 7 item 4): each MNIST-family hashed model against its dense model, 1000 test
# images (the query-based attacks on the first 100), seed 1. Writes docs/audit/<family>.{json,md,html}.
set -euo pipefail
run() { echo "+ $*"; "$@"; }
run npx bun run audit -- --model models/mnist-lenet5-h8 --n 1000 --seed 1
run npx bun run audit -- --model models/mnist-mlp-h8 --n 1000 --seed 1
run npx bun run audit -- --model models/fashion-lenet5-h8 --n 1000 --seed 1
# CIFAR-10 (JPEG), issue 9: 1000 images at L∞ ε 8/255 (PGD 10 × 2/255) for the white-box attacks and transfer;
# the query-based ones (C&W-L2, Square) on the first 20. Left out for CPU time on this 2-core machine: JSMA (3072
# features), APGD-DLR (100 iterations × 1000 images × 5 configurations) and HopSkipJump (5000 queries an image).
run npx bun run audit -- --model models/cifar10-cnn-h8 --n 1000 --n-query 20 --seed 1 --attacks fgsm,bim,cw,pgd-ce,pgd-cw,pgd-ce-rescaled,eot-pgd,cw-logits,transfer,square
