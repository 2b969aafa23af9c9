// AutoAttack (autoattack.ts) and its audit suites: 0% robust accuracy on every committed undefended model at
// the audit's L∞ budget (first 20 correctly classified test images each); the cascade attacks only the images
// still robust, with per-component counts that add up; and `--suite autoattack` in an audit runs the standard
// cascade on deterministic configurations and the EOT one on randomized ones, inside the per-image worst case.
import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { noGrad } from '../../src/autodiff/grad.ts';
import { autoAttack, AutoAttack } from '../../src/attacks/autoattack.ts';
import { argmaxRows, WhiteBox } from '../../src/attacks/target.ts';
import { robustAccuracy } from '../../src/attacks/types.ts';
import {
  CIFAR_BUDGETS,
  MNIST_BUDGETS,
  NAMED_SUITES,
  SUITE,
  suiteIds,
} from '../../src/audit/attack-suite.ts';
import { runAudit, type AuditInput, type CascadeSummary } from '../../src/audit/run-audit.ts';
import { loadDataset } from '../../src/data/node.ts';
import { type Dataset } from '../../src/data/index.ts';
import { loadModelDir } from '../../src/io/model-dir.ts';
import { gatherBatch } from '../../src/nn/batches.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { committedModel } from '../helpers/attack-data.ts';
import {
  missingData,
  REPO_ROOT,
  testSplit,
  type CommittedModel,
} from '../helpers/committed-models.ts';
import { lenetFamily } from '../helpers/audit-family.ts';

/** Every model directory under models/ (baselines included) whose model.json has no defense. */
function undefendedModels(): { dir: string; dataset: string }[] {
  const found: { dir: string; dataset: string }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (!statSync(p).isDirectory()) continue;
      const file = join(p, 'model.json');
      let manifest: {
        defense: unknown;
        provenance: {
          dataset: { name: string };
          adversarial?: unknown;
          certified?: unknown;
          finetune?: { adversarial?: unknown };
        };
      } | null = null;
      try {
        manifest = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        walk(p); // a folder of models (models/baselines)
        continue;
      }
      // NOTE: adversarial or certified training (from scratch, or a converted model's fine-tuning) is a defense
      // too, though it leaves `defense` null: such a model is not expected to fall to 0% and is left out.
      const adversarial =
        manifest!.provenance.adversarial ??
        manifest!.provenance.certified ??
        manifest!.provenance.finetune?.adversarial;
      if (manifest!.defense === null && adversarial === undefined)
        found.push({ dir: p, dataset: manifest!.provenance.dataset.name });
    }
  };
  walk(join(REPO_ROOT, 'models'));
  return found;
}

const splits = new Map<string, Promise<Dataset>>();
const split = (dataset: CommittedModel['dataset']) => {
  if (!splits.has(dataset)) splits.set(dataset, testSplit(dataset));
  return splits.get(dataset)!;
};

/** The first `n` test images (in split order) the model classifies correctly, and the first it gets wrong. */
async function firstCorrect(
  model: Sequential,
  set: Dataset,
  n: number,
  wrong = 0,
): Promise<{ x: Tensor; y: Tensor }> {
  const right: number[] = [],
    missed: number[] = [];
  for (
    let start = 0;
    start < set.count && (right.length < n || missed.length < wrong);
    start += 100
  ) {
    const idx = Uint32Array.from({ length: Math.min(100, set.count - start) }, (_, i) => start + i);
    const { x, y } = gatherBatch(set, idx, 0, idx.length);
    const pred = argmaxRows(noGrad(() => model.forward(x)));
    pred.forEach((p, i) => (p === Math.round(y.data[i]) ? right : missed).push(idx[i]));
  }
  const pick = [...right.slice(0, n), ...missed.slice(0, wrong)];
  expect(pick.length).toBe(n + wrong);
  return gatherBatch(set, Uint32Array.from(pick), 0, pick.length);
}

const KNOWN_DATASETS: readonly string[] = ['mnist', 'fashion-mnist', 'cifar10-jpeg'];

describe('AutoAttack: 0% robust accuracy on every committed undefended model (first 20 correct test images)', () => {
  const models = undefendedModels();
  test('the committed undefended models are found', () => {
    expect(models.length).toBeGreaterThanOrEqual(12);
    for (const m of models)
      expect(KNOWN_DATASETS, `${m.dir}: no test split known for dataset ${m.dataset}`).toContain(
        m.dataset,
      );
  });
  for (const { dir, dataset } of models) {
    const why = KNOWN_DATASETS.includes(dataset)
      ? missingData(dataset as CommittedModel['dataset'])
      : null;
    if (why) console.warn(`skipping AutoAttack on ${relative(REPO_ROOT, dir)}: ${why}`);
    const b = dataset.startsWith('cifar') ? CIFAR_BUDGETS : MNIST_BUDGETS;
    test.skipIf(why !== null || !KNOWN_DATASETS.includes(dataset))(
      `${relative(REPO_ROOT, dir)} at L∞ ε ${b.linf.toFixed(4)}`,
      async () => {
        const { manifest, tensors } = await loadModelDir(dir);
        const model = new Sequential(manifest.input.shape, manifest.layers, tensors);
        const { x, y } = await firstCorrect(
          model,
          await split(dataset as CommittedModel['dataset']),
          20,
        );
        const t0 = performance.now();
        const r = await autoAttack(model, x, y, { eps: b.linf, seed: 1 });
        const seconds = (performance.now() - t0) / 1000;
        const line = r.components.map((c) => `${c.name} ${c.broken}/${c.attacked}`).join(', ');
        console.log(
          `${relative(REPO_ROOT, dir)} ε ${b.linf.toFixed(4)}: robust accuracy ${(100 * r.robustAccuracy).toFixed(1)}% (${line}), ${seconds.toFixed(1)} s`,
        );
        expect(r.components.map((c) => c.name)).toEqual([
          'APGD-CE',
          'APGD-T(dlr)',
          'FAB-T-Linf',
          'Square-Linf',
        ]);
        expect(r.result.cleanCorrect.every(Boolean)).toBe(true);
        expect(r.robust).toEqual(new Array(20).fill(false));
        expect(r.robustAccuracy).toBe(0);
        expect(r.components.reduce((s, c) => s + c.broken, 0)).toBe(20);
        const pred = argmaxRows(noGrad(() => model.forward(r.result.xAdv)));
        expect(pred.every((p, i) => p !== Math.round(y.data[i]))).toBe(true);
        expect(Math.max(...r.result.norms.linf)).toBeLessThanOrEqual(b.linf + 1e-6);
      },
      180_000,
    );
  }
});

describe('the cascade attacks only the images still robust', () => {
  test('mnist-lenet5 at ε 0.1 (19 correct images and 1 misclassified): counts add up, queries are zero where broken', async () => {
    const model = await committedModel('mnist-lenet5');
    const { x, y } = await firstCorrect(model, await split('mnist'), 19, 1);
    const t0 = performance.now();
    const eps = 0.1;
    const r = await new AutoAttack({ eps, seed: 1 }).run(new WhiteBox(model), x, y);
    const seconds = (performance.now() - t0) / 1000;
    const n = 20,
      names = r.components.map((c) => c.name);
    expect(names).toEqual(['APGD-CE', 'APGD-T(dlr)', 'FAB-T-Linf', 'Square-Linf']);
    expect(r.cleanCorrect).toEqual([...new Array(19).fill(true), false]);
    // The misclassified image: never attacked, counts as not robust, broken by no component.
    for (const c of r.components) expect(c.queries[19]).toBe(0);
    expect(r.brokenBy[19]).toBeNull();
    expect(r.success[19]).toBe(true);
    let robust = Array.from({ length: n }, (_, i) => r.cleanCorrect[i]);
    r.components.forEach((c, k) => {
      const attacked = robust.map((still, i) => (still ? i : -1)).filter((i) => i >= 0);
      expect(c.attacked).toBe(attacked.length);
      // Queries exactly where the component ran: the images still robust before it.
      c.queries.forEach((q, i) => expect(q > 0).toBe(robust[i]));
      const broke = r.brokenBy.map((b, i) => (b === c.name ? i : -1)).filter((i) => i >= 0);
      expect(c.broken).toBe(broke.length);
      for (const i of broke) expect(robust[i]).toBe(true);
      robust = robust.map((still, i) => still && r.brokenBy[i] !== c.name);
      if (k + 1 < r.components.length)
        expect(r.components[k + 1].attacked).toBe(c.attacked - c.broken);
    });
    // Every component had work (ε 0.1 leaves images for the later ones), so the checks above are not vacuous.
    for (const c of r.components) expect(c.attacked).toBeGreaterThan(0);
    const stillRobust = robust.filter(Boolean).length;
    expect(r.components.reduce((s, c) => s + c.broken, 0) + stillRobust).toBe(19);
    // Deterministic model: the final check agrees with the components, and with a fresh prediction.
    expect(r.success).toEqual(robust.map((s) => !s));
    expect(robustAccuracy(r)).toBeCloseTo(stillRobust / n, 12);
    const pred = argmaxRows(noGrad(() => model.forward(r.xAdv)));
    expect(r.success).toEqual(pred.map((p, i) => p !== Math.round(y.data[i])));
    expect(Math.max(...r.norms.linf)).toBeLessThanOrEqual(eps + 1e-6);
    // Per image: the cascade's clean check and final check around the components' own queries.
    r.queries.forEach((q, i) =>
      expect(q).toBe(2 + r.components.reduce((s, c) => s + c.queries[i], 0)),
    );
    console.log(
      `cascade mnist-lenet5 ε ${eps}: ${r.components.map((c) => `${c.name} ${c.broken}/${c.attacked}`).join(', ')}; robust ${stillRobust}/${n}, ${seconds.toFixed(1)} s`,
    );
  }, 180_000);
});

describe('audit --suite autoattack', () => {
  test('default suite leaves the cascades out; they are selected by name', () => {
    const optIn = SUITE.filter((e) => e.optIn).map((e) => e.id);
    expect(optIn.sort()).toEqual(['autoattack', 'autoattack-rand']);
    expect(NAMED_SUITES.default).toEqual(SUITE.filter((e) => !e.optIn).map((e) => e.id));
    expect(NAMED_SUITES.autoattack).toEqual(['autoattack', 'autoattack-rand']);
  });

  test('suites combine: default,autoattack is the whole adaptive set plus both cascades', () => {
    expect(suiteIds()).toEqual([...NAMED_SUITES.default]);
    expect(suiteIds(undefined, 'autoattack')).toEqual(['autoattack', 'autoattack-rand']);
    expect(suiteIds(undefined, 'default,autoattack')).toEqual([
      ...NAMED_SUITES.default,
      'autoattack',
      'autoattack-rand',
    ]);
    expect(suiteIds(['pgd-ce', 'autoattack'], ' autoattack ')).toEqual([
      'pgd-ce',
      'autoattack',
      'autoattack-rand',
    ]);
    expect(() => suiteIds(undefined, 'default,nope')).toThrow(/unknown suite nope/);
  });

  test('dense gets the standard cascade, GI random the EOT one; both in the worst case, with per-component counts', async () => {
    const { test: testSet } = await loadDataset('mnist');
    const t0 = performance.now();
    const lines: string[] = [];
    const input: AuditInput = {
      ...(await lenetFamily()),
      test: testSet,
      n: 8,
      nQuery: 4,
      seed: 3,
      budgets: MNIST_BUDGETS,
      suite: 'autoattack',
      configurations: ['dense', 'hashed+GI random'],
      command: 'test',
      progress: (l) => lines.push(l),
    };
    const report = await runAudit(input);
    const [dense, random] = report.configurations;
    expect(dense.attacks.map((a) => a.id)).toEqual(['autoattack']);
    expect(random.attacks.map((a) => a.id)).toEqual(['autoattack-rand']);
    for (const c of [dense, random]) {
      const row = c.attacks[0] as CascadeSummary;
      const { components, robustAccuracy: ra } = row.cascade;
      expect(components.map((k) => k.name)).toEqual(
        c.randomized
          ? ['APGD-CE', 'APGD-DLR']
          : ['APGD-CE', 'APGD-T(dlr)', 'FAB-T-Linf', 'Square-Linf'],
      );
      components
        .slice(1)
        .forEach((k, i) => expect(k.attacked).toBe(components[i].attacked - components[i].broken));
      // Robust accuracy over all 8 images = clean accuracy × (1 − success rate), by the audit's verdict.
      expect(ra).toBeCloseTo(c.cleanAccuracy * (1 - row.successRate), 12);
      expect(c.adaptiveWorstCase.full.attacks).toEqual([row.id]);
      expect(c.adaptiveWorstCase.full.successRate).toBe(row.successRate);
      // The cascade is the whole adaptive set here: the configuration's robust accuracy is the row's.
      expect(c.robustAccuracy).toBe(ra);
    }
    // The undefended dense model falls entirely, and the cascade's counts match on a deterministic model.
    const d = dense.attacks[0] as CascadeSummary;
    expect(d.successRate).toBe(1);
    expect(d.cascade.robustAccuracy).toBe(0);
    expect(d.cascade.components.reduce((s, k) => s + k.broken, 0)).toBe(
      Math.round(dense.cleanAccuracy * 8),
    );
    expect(lines.some((l) => /autoattack .*broken by APGD-CE \d+\/\d+/.test(l))).toBe(true);
    const rr = random.attacks[0] as CascadeSummary;
    console.log(
      `audit --suite autoattack (8 images, ${((performance.now() - t0) / 1000).toFixed(1)} s): dense ${(100 * d.successRate).toFixed(1)}%, ` +
        `GI random ${(100 * rr.successRate).toFixed(1)}% (${rr.cascade.components.map((k) => `${k.name} ${k.broken}/${k.attacked}`).join(', ')}; robust accuracy ${(100 * rr.cascade.robustAccuracy).toFixed(1)}%)`,
    );
    await expect(runAudit({ ...input, suite: 'nope' })).rejects.toThrow(/unknown suite nope/);
  }, 300_000);
});
