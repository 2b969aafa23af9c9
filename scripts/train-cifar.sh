#!/usr/bin/env bash
# Issue 9: the two CIFAR-10 (JPEG) models, in the background: cifar10-cnn is trained (15 epochs, crop+flip, one
# thread), then cifar10-cnn-h8 is converted from it (scripts/convert-cifar-h8.sh: the dense model projected onto
# a 1/8 hashed budget and fine-tuned 15 epochs). Progress in logs/, a checkpoint per epoch in checkpoints/; run
# again after an interruption: each step resumes from its checkpoint, and a finished model is not redone (both
# are committed: delete models/cifar10-cnn and models/cifar10-cnn-h8 to reproduce them from scratch).
#   bash scripts/train-cifar.sh && tail -f logs/cifar10-cnn.log logs/cifar10-cnn-h8-convert.log
set -euo pipefail
mkdir -p logs
dense() {
  [[ -f models/cifar10-cnn/model.json ]] && { echo "models/cifar10-cnn exists: not retrained"; return; }
  local resume=()
  [[ -f checkpoints/cifar10-cnn.ckpt.safetensors ]] && resume=(--resume)
  npx bun run train -- --arch cnn --dataset cifar10-jpeg --epochs 15 --seed 1 --augment crop:4,flip --threads 1 \
    --out models/cifar10-cnn "${resume[@]}" > logs/cifar10-cnn.log 2>&1
}
# The conversion waits for the dense model (it is its starting point).
hashed() {
  [[ -f models/cifar10-cnn-h8/model.json ]] && { echo "models/cifar10-cnn-h8 exists: not reconverted"; return; }
  WAIT=1 bash scripts/convert-cifar-h8.sh
}
nohup bash -c "$(declare -f dense hashed); set -euo pipefail; dense; hashed" > logs/train-cifar.log 2>&1 &
echo "started: logs/cifar10-cnn.log, then logs/cifar10-cnn-h8-convert.log (chain in logs/train-cifar.log)"
