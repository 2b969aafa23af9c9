// Adversarial training as a user runs it: flag errors, what model.json records (validation split, method,
// per-epoch clean and robust validation accuracy), SIGINT then --resume reproducing an uninterrupted run bit
// for bit, and the catastrophic-overfitting guard restoring the last good epoch (driven through runTraining).
import { describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainSyntheticMlp } from '../helpers/cli-args.ts';
import { runTraining } from '../../src/cli/run-training.ts';
import { progressSink } from '../../src/cli/progress.ts';
import { validationSplit } from '../../src/data/dataset.ts';
import { syntheticDataset } from '../../src/data/synthetic.ts';
import { loadCheckpoint } from '../../src/io/checkpoint.ts';
import { parseAdversarial } from '../../src/nn/adversarial.ts';
import { smallCnn } from '../../src/nn/architectures.ts';
import { initParams } from '../../src/nn/init.ts';
import { adam } from '../../src/nn/optimizers.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { trainEpoch } from '../../src/nn/train.ts';

const dir = mkdtempSync(join(tmpdir(), 'hg-at-'));
const bun = process.execPath;
const main = join(import.meta.dir, '../../src/cli/main.ts');
const common = [
  '--arch',
  'small-cnn',
  '--widths',
  '4,8,16',
  '--dataset',
  'synthetic',
  '--epochs',
  '3',
  '--seed',
  '3',
  '--batch-size',
  '50',
  '--adversarial',
  'pgd:eps=0.1,steps=3',
  '--eps-ramp',
  '1',
  '--schedule',
  'one-cycle',
  '--robust-check',
  '40',
  '--threads',
  '1',
];

function run(args: string[]) {
  const p = Bun.spawnSync([bun, main, ...args], { stdout: 'pipe', stderr: 'pipe' });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}
const manifest = (model: string) => JSON.parse(readFileSync(join(model, 'model.json'), 'utf8'));

describe('train --adversarial', () => {
  test('bad flags are usage errors that name the problem', () => {
    const cases: [string[], RegExp][] = [
      [
        ['--adversarial', 'fgsm:eps=0.3'],
        /--adversarial: unknown method 'fgsm' \(expected pgd, fgsm-rs or trades\)/,
      ],
      [['--adversarial', 'pgd:eps=0.3,alpha=1'], /unknown setting 'alpha'/],
      [
        ['--eps-ramp', '2'],
        /--eps-ramp ramps the training radius: give --adversarial or --certified/,
      ],
      [
        ['--adversarial', 'pgd:eps=0.3', '--certified', 'ibp:eps=0.3'],
        /--certified and --adversarial do not combine/,
      ],
      [
        ['--certified', 'crown:eps=0.3'],
        /--certified: unknown method 'crown' \(expected ibp or crown-ibp\)/,
      ],
      [['--certified', 'ibp:eps=0.3', '--threads', '2'], /--certified trains in one thread/],
      [['--adversarial', 'pgd:eps=0.3', '--validation', '0'], /needs a validation split/],
      [['--adversarial', 'pgd:eps=0.3', '--eps-ramp', '9'], /--eps-ramp/],
    ];
    for (const [extra, message] of cases) {
      const r = run([
        'train',
        '--arch',
        'small-cnn',
        '--dataset',
        'synthetic',
        '--epochs',
        '3',
        '--out',
        join(dir, 'never'),
        ...extra,
      ]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).not.toContain('    at ');
    }
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  test('a run records its validation split, method and per-epoch clean and robust validation accuracy', () => {
    const out = join(dir, 'full');
    const r = run(['train', ...common, '--out', out, '--checkpoint', join(dir, 'full.ckpt')]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(
      /epoch 1\/3 .*train \(adversarial\) .*validation .*robust .*\(PGD-20 ε 0\.1 on 40\)/,
    );
    const p = manifest(out).provenance;
    expect(p.validation).toEqual({ rows: 'last', count: 100 }); // a tenth of the 1,000 synthetic training rows
    expect(p.dataset.trainCount).toBe(900);
    expect(p.adversarial).toMatchObject({
      method: 'pgd:eps=0.1,steps=3,step=0.08333333333333333',
      kind: 'pgd',
      eps: 0.1,
      steps: 3,
      step: 0.25 / 3,
      epsRampEpochs: 1,
      robustCheckRows: 40,
    });
    expect(p.history).toHaveLength(3);
    for (const h of p.history) {
      expect(h.validationAccuracy).toBeGreaterThanOrEqual(0);
      expect(h.robustAccuracy).toBeGreaterThanOrEqual(0);
      expect(h.robustAccuracy).toBeLessThanOrEqual(h.validationAccuracy + 1e-9 + 40 / 100); // PGD rows are a subset
      expect(h.seconds).toBeGreaterThan(0);
    }
    expect(p.history[0].eps).toBeCloseTo(0.1, 10); // the ramp ends with epoch 1
  }, 120_000);

  test('--certified (IBP): per-epoch verified validation accuracy, the method and its ramp recorded', () => {
    const out = join(dir, 'ibp');
    const r = run([
      ...trainSyntheticMlp(out, join(dir, 'ibp.ckpt')).filter(
        (_, i, a) => a[i - 1] !== '--epochs' && a[i] !== '--epochs',
      ),
      '--epochs',
      '2',
      '--certified',
      'ibp:eps=0.01,kappa=0.7',
      '--eps-ramp',
      '1',
      '--robust-check',
      '30',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(
      /epoch 2\/2 .*train \(clean\) .*validation .*verified .*\(IBP ε 0\.01 on 30\)/,
    );
    const p = manifest(out).provenance;
    expect(p.certified).toEqual({
      method: 'ibp:eps=0.01,kappa=0.7',
      kind: 'ibp',
      eps: 0.01,
      kappa: 0.7,
      epsRampEpochs: 1,
      robustCheckRows: 30,
    });
    expect(p.history).toHaveLength(2);
    for (const h of p.history) expect(h.robustAccuracy).toBeLessThanOrEqual(1);
    expect(p.history[0].eps).toBeCloseTo(0.01, 10);
  }, 120_000);

  test('SIGINT keeps the last checkpoint; --resume ends with the same weights as an uninterrupted run', async () => {
    const out = join(dir, 'resumed'),
      ckpt = join(dir, 'resumed.ckpt');
    const args = ['train', ...common, '--out', out, '--checkpoint', ckpt];
    const p = Bun.spawn([bun, main, ...args], { stdout: 'pipe', stderr: 'pipe' });
    const deadline = Date.now() + 60_000;
    while (!existsSync(ckpt) && Date.now() < deadline) await Bun.sleep(20);
    p.kill('SIGINT');
    const code = await p.exited;
    if (code !== 0) {
      expect(code).toBe(130);
      expect(existsSync(out)).toBe(false);
      const r = run([...args, '--resume']);
      expect(r.code).toBe(0);
      expect(r.err).toContain('resumed from');
    }
    expect(manifest(out).weights.sha256).toBe(manifest(join(dir, 'full')).weights.sha256);
  }, 180_000);
});

describe('convert --finetune-epochs --adversarial', () => {
  test('a converted hashed model is fine-tuned adversarially, with the method and robust history recorded', () => {
    const dense = join(dir, 'dense-src');
    expect(
      run([
        'train',
        '--arch',
        'small-cnn',
        '--widths',
        '4,8,16',
        '--dataset',
        'synthetic',
        '--epochs',
        '1',
        '--seed',
        '2',
        '--threads',
        '1',
        '--out',
        dense,
        '--checkpoint',
        join(dir, 'dense-src.ckpt'),
      ]).code,
    ).toBe(0);
    const out = join(dir, 'dense-src-h4-at');
    const r = run([
      'convert',
      '--from',
      dense,
      '--compression',
      '1/4',
      '--finetune-epochs',
      '2',
      '--adversarial',
      'fgsm-rs:eps=0.1',
      '--robust-check',
      '30',
      '--threads',
      '2',
      '--out',
      out,
      '--checkpoint',
      join(dir, 'conv.ckpt'),
    ]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/epoch 2\/2 .*train \(adversarial\) .*robust .*\(PGD-20 ε 0\.1 on 30\)/);
    const m = manifest(out);
    expect(m.layers.filter((l: { type: string }) => l.type.startsWith('hashed'))).toHaveLength(4);
    expect(m.provenance.finetune.adversarial).toMatchObject({
      method: 'fgsm-rs:eps=0.1,alpha=0.125',
      kind: 'fgsm-rs',
      robustCheckRows: 30,
    });
    expect(m.provenance.finetune.validation).toEqual({ rows: 'last', count: 100 });
    expect(
      m.provenance.finetune.history.map((h: { robustAccuracy: number }) => typeof h.robustAccuracy),
    ).toEqual(['number', 'number']);
    const bad = run([
      'convert',
      '--from',
      dense,
      '--compression',
      '1/4',
      '--adversarial',
      'pgd:eps=0.1',
      '--out',
      join(dir, 'never2'),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--adversarial applies to fine-tuning: give --finetune-epochs N/);
  }, 120_000);
});

describe('catastrophic-overfitting guard', () => {
  const shape: [number, number, number] = [1, 12, 12];
  const all = syntheticDataset({ count: 300, shape, classes: 3, seed: 2, split: 'train' });
  const { train, validation } = validationSplit(all, 60);
  const layers = smallCnn(shape, 3, [2, 4, 8]);
  const spec = parseAdversarial('fgsm-rs:eps=0.1');
  const opts = {
    epochs: 5,
    batchSize: 30,
    seed: 1,
    schedule: 'constant' as const,
    adversarial: spec,
  };
  const sink = progressSink({ write: () => {} }, 'off');
  /** The weights of an independent, uninterrupted two-epoch run: what a restore of epoch 2 must give back. */
  const twoEpochTwin = async () => {
    const twin = new Sequential(shape, layers, initParams(layers, 1));
    const opt = adam({ lr: 1e-3 });
    for (let e = 0; e < 2; e++) await trainEpoch(twin, opt, train, opts, e);
    return twin;
  };
  const expectWeights = (got: Sequential, want: Sequential) => {
    for (const [name, t] of want.params)
      expect(Array.from(got.params.get(name)!.data)).toEqual(Array.from(t.data));
  };

  test("a fall of more than 20 points below the best epoch restores that epoch's weights, stops, and says so", async () => {
    const logs: string[] = [];
    const model = new Sequential(shape, layers, initParams(layers, 1));
    const scripted = [0.3, 0.5, 0.45, 0.2, 0.6]; // epoch 4 collapses (0.2 < 0.5 − 0.2); epoch 5 must never run
    let calls = 0;
    const ckpt = join(dir, 'guard.ckpt');
    const outcome = await runTraining({
      model,
      optimizer: adam({ lr: 1e-3 }),
      train,
      validation,
      opts,
      checkpoint: ckpt,
      config: { guard: 1 },
      resume: false,
      sink: {
        ...sink,
        log: (s: string) => {
          logs.push(s);
        },
      },
      robustCheck: () => scripted[calls++],
    });
    expect(calls).toBe(4);
    expect(outcome!.history).toHaveLength(4);
    expect(outcome!.best).toEqual({ epoch: 2, robustAccuracy: 0.5 });
    expect(outcome!.collapse).toEqual({
      epoch: 4,
      robustAccuracy: 0.2,
      restoredEpoch: 2,
      restoredRobustAccuracy: 0.5,
    });
    expect(logs.join('\n')).toMatch(
      /catastrophic overfitting at epoch 4: robust validation accuracy fell to 20\.00% from 50\.00% at epoch 2; restored epoch 2's weights and stopped/,
    );

    // The restored weights are exactly those of an independent two-epoch run.
    const twin = await twoEpochTwin();
    expectWeights(model, twin);

    // The checkpoint carries the restored weights and the verdict; resuming trains nothing more.
    const ck = await loadCheckpoint(ckpt);
    expect(ck.state.collapse).toEqual(outcome!.collapse);
    for (const [name, t] of twin.params)
      expect(Array.from(ck.params.get(name)!.data)).toEqual(Array.from(t.data));
    const again = new Sequential(shape, layers, initParams(layers, 9));
    const resumed = await runTraining({
      model: again,
      optimizer: adam({ lr: 1e-3 }),
      train,
      validation,
      opts,
      checkpoint: ckpt,
      config: { guard: 1 },
      resume: true,
      sink,
      robustCheck: () => {
        throw new Error('no epoch may run after a collapse');
      },
    });
    expect(resumed!.collapse).toEqual(outcome!.collapse);
    for (const [name, t] of twin.params)
      expect(Array.from(again.params.get(name)!.data)).toEqual(Array.from(t.data));
  }, 60_000);

  test('a best epoch stored once (it was the latest) is still restored after a resume and a later collapse', async () => {
    const ckpt = join(dir, 'guard-once.ckpt');
    const model = new Sequential(shape, layers, initParams(layers, 1));
    const first = [0.3, 0.5]; // two epochs, the second the best: its weights are the checkpoint's parameters
    let calls = 0;
    await runTraining({
      model,
      optimizer: adam({ lr: 1e-3 }),
      train,
      validation,
      opts: { ...opts, epochs: 2 },
      checkpoint: ckpt,
      config: { guard: 2 },
      resume: false,
      sink,
      robustCheck: () => first[calls++],
    });
    const header = readFileSync(ckpt)
      .subarray(8, 8 + readFileSync(ckpt).readUInt32LE(0))
      .toString();
    expect(header).not.toContain('best/');
    expect(header).toContain('hashguard.best_is_params');
    // Resumed for three more epochs: the fourth collapses, and epoch 2's weights must come back.
    const again = new Sequential(shape, layers, initParams(layers, 9));
    const later = [0.45, 0.2];
    calls = 0;
    const outcome = await runTraining({
      model: again,
      optimizer: adam({ lr: 1e-3 }),
      train,
      validation,
      opts,
      checkpoint: ckpt,
      config: { guard: 2 },
      resume: true,
      sink,
      robustCheck: () => later[calls++],
    });
    expect(outcome!.collapse).toEqual({
      epoch: 4,
      robustAccuracy: 0.2,
      restoredEpoch: 2,
      restoredRobustAccuracy: 0.5,
    });
    expectWeights(again, await twoEpochTwin());
  }, 60_000);

  test('a dip of 20 points or less is not a collapse', async () => {
    const model = new Sequential(shape, layers, initParams(layers, 1));
    const scripted = [0.5, 0.31, 0.4, 0.45, 0.5];
    let calls = 0;
    const outcome = await runTraining({
      model,
      optimizer: adam({ lr: 1e-3 }),
      train,
      validation,
      opts,
      checkpoint: join(dir, 'dip.ckpt'),
      config: {},
      resume: false,
      sink,
      robustCheck: () => scripted[calls++],
    });
    expect(calls).toBe(5);
    expect(outcome!.collapse).toBeUndefined();
    expect(outcome!.best).toEqual({ epoch: 5, robustAccuracy: 0.5 });
  }, 60_000);
});
