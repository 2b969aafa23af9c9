#!/usr/bin/env bash
# The committed audits (issue 7 item 4): each MNIST-family hashed model against its dense model, 1000 test
# images (the query-based attacks on the first 100), seed 1. Writes docs/audit/<family>.{json,md,html}.
set -euo pipefail
run() { echo "+ $*"; "$@"; }
run npx bun run audit -- --model models/mnist-lenet5-h8 --n 1000 --seed 1
run npx bun run audit -- --model models/mnist-mlp-h8 --n 1000 --seed 1
run npx bun run audit -- --model models/fashion-lenet5-h8 --n 1000 --seed 1
# CIFAR-10 (JPEG), issue 9: a reduced run (300 images: the white-box paper-era attacks, PGD-CW, PGD on rescaled
# logits, EOT-PGD and transfer). The full set at 1000 images needs hours of CPU on this 2-core machine: JSMA,
# C&W, APGD, Square and HopSkipJump on 3072-dimensional inputs.
run npx bun run audit -- --model models/cifar10-cnn-h8 --n 300 --n-query 30 --seed 1 --attacks fgsm,bim,pgd-ce,pgd-cw,pgd-ce-rescaled,eot-pgd,transfer
