#!/usr/bin/env bash
# The committed audits, 1000 test images each (the query-based attacks on the first 100), seed 1. Writes
# docs/audit/<family>.{json,md,html}, replacing the committed reports on purpose (--out … --force; without --out
# an audit writes to a new folder under runs/). Part reports go to logs/audit-parts/ (not committed).
# The long ones run as parts, two at a time (one per core), joined by --merge: every configuration draws from
# streams named by the seed, so the merged report equals a single run number for number.
set -euo pipefail
run() { echo "+ $*"; "$@"; }
# Two parts side by side; set -e stops at the first that fails.
pair() {
  run npx bun run audit -- "${common[@]}" $1 &
  local a=$!
  run npx bun run audit -- "${common[@]}" $2 &
  local b=$!
  wait $a
  wait $b
}
mkdir -p logs/audit-parts

# The paper's families: the five undefended and GI configurations.
run npx bun run audit -- --model models/mnist-lenet5-h8 --n 1000 --seed 1 --out docs/audit/mnist-lenet5 --force
run npx bun run audit -- --model models/mnist-mlp-h8 --n 1000 --seed 1 --out docs/audit/mnist-mlp --force
run npx bun run audit -- --model models/fashion-lenet5-h8 --n 1000 --seed 1 --out docs/audit/fashion-lenet5 --force

# The side-by-side audits: GI, adversarial training and both, with AutoAttack's cascades and CROWN-IBP certificates.
common=(--model models/mnist-cnn-h8 --dense models/mnist-cnn --dense-at models/mnist-cnn-at
  --hashed-at models/mnist-cnn-h8-at --n 1000 --n-query 100 --seed 1 --suite default,autoattack)
pair "--configurations dense,hashed,scale,magnitude,random,dense-at --out logs/audit-parts/mnist-cnn-a --force" \
  "--configurations hashed-at,hashed-at-random --out logs/audit-parts/mnist-cnn-b --force"
run npx bun run audit -- --merge logs/audit-parts/mnist-cnn-a.json,logs/audit-parts/mnist-cnn-b.json \
  --out docs/audit/mnist-cnn --force

common=(--model models/fashion-lenet5-h8 --dense models/fashion-lenet5 --dense-at models/fashion-cnn-at --eps 0.1
  --n 1000 --n-query 100 --seed 1 --suite default,autoattack)
pair "--configurations dense,hashed,scale,magnitude,random --out logs/audit-parts/fashion-a --force" \
  "--configurations dense-at --out logs/audit-parts/fashion-b --force"
run npx bun run audit -- --merge logs/audit-parts/fashion-a.json,logs/audit-parts/fashion-b.json \
  --out docs/audit/fashion-cnn --force

# CIFAR-10 (JPEG) at 8/255: six parts (a randomized configuration's EOT cascades take hours on their own).
common=(--model models/cifar10-cnn-h8 --dense models/cifar10-cnn --dense-at models/cifar10-cnn-at
  --hashed-at models/cifar10-cnn-h8-at --n 1000 --n-query 100 --seed 1 --suite default,autoattack)
pair "--configurations dense,hashed --out logs/audit-parts/cifar10-cnn-a1 --force" \
  "--configurations scale,magnitude --out logs/audit-parts/cifar10-cnn-a2 --force"
pair "--configurations dense-at --out logs/audit-parts/cifar10-cnn-b --force" \
  "--configurations hashed-at --out logs/audit-parts/cifar10-cnn-c --force"
pair "--configurations random --out logs/audit-parts/cifar10-cnn-d --force" \
  "--configurations hashed-at-random --out logs/audit-parts/cifar10-cnn-e --force"
parts=$(printf 'logs/audit-parts/cifar10-cnn-%s.json,' a1 a2 b c d e)
run npx bun run audit -- --merge "${parts%,}" --out docs/audit/cifar10-cnn --force

# Every configuration gets its certified side (configurations that already carry it keep it).
for r in mnist-cnn fashion-cnn cifar10-cnn; do
  run npx bun run audit -- --add-certificates docs/audit/$r.json --out docs/audit/$r --force
done
