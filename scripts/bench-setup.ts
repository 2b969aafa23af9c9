// `bun run bench:setup`: what `bun run bench` needs beyond npm: PyTorch and python3-onnx for its PyTorch peer, and
// an optimized BLAS for it (Debian's python3-torch otherwise runs its Linear layers on the reference BLAS). Installs
// them with apt-get where apt exists and this user is root; otherwise prints the command. onnxruntime-node is a
// devDependency (npm ci).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { scriptFlags } from '../src/cli/index.ts';
import { findTorchPython, TORCH_INSTALL } from '../bench/peers/torch.ts';

const USAGE = `usage: bun run bench:setup   (or: bun scripts/bench-setup.ts)
  installs the PyTorch peer of \`bun run bench\` (Debian: ${TORCH_INSTALL}) where apt-get exists and the
  user is root; otherwise prints the command to run. Does nothing when everything is already there.`;
scriptFlags(USAGE, {});

const PACKAGES = TORCH_INSTALL.replace('apt-get install -y ', '').split(' ');
const missing = PACKAGES.filter(
  (p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0,
);
const found = findTorchPython();
if (!missing.length && 'python' in found) {
  console.log(
    `the PyTorch peer is ready: ${found.python} imports torch and onnx; ${PACKAGES.join(', ')} installed`,
  );
  process.exit(0);
}
const apt = existsSync('/usr/bin/apt-get');
const root = process.getuid?.() === 0;
const toInstall = missing.length ? missing : PACKAGES;
if (!apt || !root) {
  console.log(
    `${'reason' in found ? found.reason : `missing packages: ${missing.join(', ')}`}\n` +
      (apt
        ? `run as root: apt-get update && apt-get install -y ${toInstall.join(' ')}`
        : `no apt-get here: install PyTorch (>= 1.13) and onnx for a python3, then point HASHGUARD_TORCH_PYTHON at it`),
  );
  process.exit(apt ? 1 : 0);
}
for (const args of [
  ['update', '-qq'],
  ['install', '-y', '-qq', ...toInstall],
]) {
  console.log(`apt-get ${args.join(' ')}`);
  const r = spawnSync('apt-get', args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0) {
    console.error(`apt-get ${args[0]} failed (exit ${r.status})`);
    process.exit(1);
  }
}
const after = findTorchPython();
if ('reason' in after) {
  console.error(after.reason);
  process.exit(1);
}
console.log(`the PyTorch peer is ready: ${after.python} imports torch and onnx`);
