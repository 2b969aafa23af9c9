#!/usr/bin/env bash
# Issue 9: trains the two CIFAR-10 (JPEG) models as background jobs, one thread each (two jobs on a 2-core
# machine scale better than one job on two threads), progress in logs/<model>.log, a checkpoint after every
# epoch in checkpoints/. Run again after an interruption: a job with a checkpoint resumes from it.
#   bash scripts/train-cifar.sh            # start (or resume) both; returns at once
#   tail -f logs/cifar10-cnn.log           # follow one
# The hashed model stores 1/8 of the dense model's weights overall: the four convs at 1/2 each, the 4096→256
# layer (94% of all weights, and the most redundant) at 1/10, the output layer at 1/2: 138,8xx real weights.
set -euo pipefail
mkdir -p logs
start() {
  local name=$1; shift
  local resume=()
  [[ -f checkpoints/$name.ckpt.safetensors ]] && resume=(--resume)
  echo "+ npx bun run train -- $* --out models/$name ${resume[*]} > logs/$name.log"
  nohup npx bun run train -- "$@" --out "models/$name" "${resume[@]}" > "logs/$name.log" 2>&1 &
}
common=(--arch cnn --dataset cifar10-jpeg --epochs 15 --seed 1 --augment crop:4,flip --threads 1)
start cifar10-cnn "${common[@]}"
start cifar10-cnn-h8 "${common[@]}" --hash 1/2,1/2,1/2,1/2,1/10,1/2
