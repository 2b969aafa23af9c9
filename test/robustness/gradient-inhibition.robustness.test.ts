// Robustness suite (issue 7, item 5), runnable on your own models:
//   HASHGUARD_ROBUSTNESS_MODEL=models/my-hashed HASHGUARD_ROBUSTNESS_DENSE=models/my-dense \
//   HASHGUARD_ROBUSTNESS_N=500 bun test test/robustness
// On a GPU host add HASHGUARD_BACKEND=webgpu (or auto): attacks and training-free defenses then run on the
// WebGPU chain, and the describe titles name the adapter.
// Defaults: the committed mnist-lenet5 family, 100 seeded test images. For every GI configuration:
// (a) the cross-entropy attacks' success falls sharply (the paper's direction); (b) the adaptive attacks bring
// success back to within 5 pp of the same model without GI; (c) the masking checks flag it; (d) unbounded
// attacks reach 100%. Where a property does not hold for a configuration, the test says so as a KNOWN GAP
// (test.failing) with the measured numbers, rather than being loosened.
import { beforeAll, describe, expect, test } from 'bun:test';
import { basename } from 'node:path';
import { MNIST_BUDGETS, CIFAR_BUDGETS } from '../../src/audit/attack-suite.ts';
import type { AuditReport, ConfigReport } from '../../src/audit/report-types.ts';
import { runAudit } from '../../src/audit/run-audit.ts';
import { selectBackend, setBackend, type BackendChoice } from '../../src/backend/index.ts';
import { loadDataset, type DatasetName } from '../../src/data/index.ts';
import { loadModelDir } from '../../src/io/model-dir.ts';
import { Sequential } from '../../src/nn/sequential.ts';

const env = (k: string) => (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[k];
const hashedDir = env('HASHGUARD_ROBUSTNESS_MODEL') ?? 'models/mnist-lenet5-h8';
const denseDir = env('HASHGUARD_ROBUSTNESS_DENSE') ?? hashedDir.replace(/-h\d+(-.*)?$/, '');
const n = Number(env('HASHGUARD_ROBUSTNESS_N') ?? 100);

let report: AuditReport;
let backendLine = 'default CPU backend';
const cfg = (name: string) => report.configurations.find((c) => c.name === name)!;
const asr = (c: ConfigReport, id: string) => c.attacks.find((a) => a.id === id)?.successRate ?? NaN;

beforeAll(async () => {
  const choice = env('HASHGUARD_BACKEND');
  if (choice) {
    const sel = await selectBackend(choice as BackendChoice);
    setBackend(sel.backend);
    backendLine = sel.description;
  }
  const load = async (dir: string) => {
    const { manifest, tensors } = await loadModelDir(dir);
    return { name: manifest.name, model: new Sequential(manifest.input.shape, manifest.layers, tensors), weightsSha256: manifest.weights.sha256, dataset: manifest.provenance.dataset.name };
  };
  const hashed = await load(hashedDir), dense = await load(denseDir);
  const { test: testSplit } = await loadDataset(hashed.dataset as DatasetName);
  report = await runAudit({
    family: basename(denseDir), datasetName: hashed.dataset, dense, hashed, test: testSplit, n, nQuery: Math.min(n, 50), seed: 1,
    budgets: hashed.dataset.startsWith('cifar') ? CIFAR_BUDGETS : MNIST_BUDGETS,
    attacks: ['fgsm', 'pgd-ce', 'pgd-cw', 'apgd-dlr', 'pgd-ce-rescaled', 'eot-pgd', 'transfer', 'square'],
    command: 'test/robustness',
  });
  console.log(`robustness suite: ${hashedDir} vs ${denseDir}, ${n} images, backend ${backendLine}`);
}, 900_000);

/** Measured numbers for a failure message or a known gap. */
const numbers = (c: ConfigReport) => `${c.name}: ${c.attacks.map((a) => `${a.id} ${(100 * a.successRate).toFixed(1)}%`).join(', ')}; checks ${c.checks.map((k) => `${k.id} ${k.pass ? 'pass' : 'FLAG'}`).join(', ')}`;

// Properties measured not to hold (README "Robustness audit" gives the numbers): magnitude GI, at the largest ε
// whose clean accuracy stays within 0.3 pp (calibrated by the audit: 0.02 on mnist-lenet5-h8), widens the top
// logit margin from 9.1 to 12.6 on average but zeroes no gradient and lowers no attack, so nothing falls and
// nothing is flagged. ε 0.2 zeroes 26% of the gradients and costs 19.6 pp of accuracy (98.23% → 78.65%).
const KNOWN_GAPS = new Set(['hashed+GI magnitude:a', 'hashed+GI magnitude:c']);

for (const name of ['hashed+GI scale', 'hashed+GI magnitude', 'hashed+GI random']) {
  describe(`${name} (${hashedDir}, ${n} images)`, () => {
    const check = (id: string, title: string, body: () => void) =>
      KNOWN_GAPS.has(`${name}:${id}`) ? test.failing(`KNOWN GAP (${id}) ${title}`, body) : test(`(${id}) ${title}`, body);

    check('a', 'cross-entropy attacks fall sharply: FGSM and PGD-CE success at most half the undefended hashed model\'s', () => {
      const c = cfg(name), h = cfg('hashed');
      expect(asr(c, 'fgsm'), numbers(c)).toBeLessThanOrEqual(0.5 * asr(h, 'fgsm'));
      expect(asr(c, 'pgd-ce'), numbers(c)).toBeLessThanOrEqual(0.5 * asr(h, 'pgd-ce'));
    });

    check('b', 'adaptive attacks come within 5 pp of the same model without GI', () => {
      const c = cfg(name), h = cfg('hashed');
      expect(c.adaptiveWorstCase.full.successRate, numbers(c)).toBeGreaterThanOrEqual(asr(h, 'pgd-ce') - 0.05);
    });

    check('c', 'the gradient-masking checks flag it', () => {
      const c = cfg(name);
      expect(c.checks.some((k) => !k.pass), numbers(c)).toBe(true);
    });

    check('d', 'unbounded attacks reach 100%', () => {
      const c = cfg(name);
      expect(c.checks.find((k) => k.id === 'unbounded-reaches-100')!.pass, numbers(c)).toBe(true);
    });
  });
}
