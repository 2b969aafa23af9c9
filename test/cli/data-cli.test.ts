// `train --data DIR` and `eval --data DIR` as a user runs them on a generated tree of their own images: a model in
// seconds whose provenance records the folder, eval reproducing its accuracy on the held-out split, and the
// usage and data errors, each naming what is wrong.
import { afterAll, describe, expect, test } from 'bun:test';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tempDir, removeTempDirs } from '../data/helpers.ts';
import { join } from 'node:path';
import { writeImageTree } from '../helpers/image-tree.ts';
import { defaultValidationRows } from '../../src/cli/adversarial-flags.ts';

afterAll(removeTempDirs);

const dir = tempDir('data-cli');
const tree = writeImageTree(join(dir, 'bugs'));
writeFileSync(join(tree, 'ant', 'notes.txt'), 'not an image');
const main = join(import.meta.dir, '../../src/cli/main.ts');

function run(args: string[]) {
  const p = Bun.spawnSync([process.execPath, main, ...args], { stdout: 'pipe', stderr: 'pipe' });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

/** One epoch of a 64-8-3 MLP on the tree, one thread. */
const train = (out: string, extra: string[] = []) => [
  'train',
  '--arch',
  'mlp',
  '--widths',
  '8',
  '--epochs',
  '1',
  '--seed',
  '3',
  '--batch-size',
  '8',
  '--threads',
  '1',
  '--out',
  out,
  '--checkpoint',
  `${out}.ckpt`,
  ...extra,
];
const model = join(dir, 'model');

describe('train and eval --data', () => {
  test('train records the folder; eval scores the held-out split and reproduces the accuracy', () => {
    const r = run([...train(model), '--data', tree, '--val-split', '0.25', '--background', 'dark']);
    expect(r.err).toContain(
      `data: ${tree}: 3 classes, 27 train and 9 test images (25% of each class held out as test, seed 3), 1×8×8 each`,
    );
    expect(r.err).toContain(
      `note: skipped 1 entries that are not .png/.jpg/.jpeg files (first: ${join(tree, 'ant', 'notes.txt')})`,
    );
    expect(r.err).toContain(
      `note: channels 1 (--channels) and size 8x8 (--size) from the first image, ${join(tree, 'ant', 'img-00.png')}`,
    );
    expect(r.code).toBe(0);
    const m = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8'));
    expect(m.input).toEqual({ shape: [1, 8, 8], range: [0, 1], background: 'dark' });
    expect(m.classes).toEqual(['ant', 'bee', 'cat']);
    const d = m.provenance.dataset;
    expect(d).toMatchObject({
      name: 'bugs',
      kind: 'image-folder',
      layout: 'classes',
      images: { train: 27, test: 9 },
      split: { seed: 3, fraction: 0.25, rule: 'per-class-hash-rank' },
      testCount: 9,
    });
    expect(d.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.metrics.testCount).toBe(9);
    // Class-grouped training rows: the default validation split holds out one row per class.
    expect(m.provenance.validation).toEqual({ rows: 'last-per-class', count: 3 });

    const ev = run(['eval', '--model', model, '--data', tree]);
    expect(ev.code).toBe(0);
    const score = JSON.parse(ev.out);
    expect(score.count).toBe(9);
    expect(score.testAccuracy).toBe(m.metrics.testAccuracy);
    expect(score.data).toEqual({
      folder: 'bugs',
      sha256: d.sha256,
      layout: 'classes',
      split: d.split,
    });
    // --val-split 1: every image of the tree, the training ones included.
    const all = run(['eval', '--model', model, '--data', tree, '--val-split', '1']);
    expect(JSON.parse(all.out).count).toBe(36);
    // The model's dataset is the folder: eval without --data says so.
    const bare = run(['eval', '--model', model]);
    expect(bare.code).toBe(2);
    expect(bare.err).toContain(`${model} was trained on the image folder 'bugs'`);
  }, 60_000);

  test('eval: folders must be the model classes, images its input size', () => {
    const other = writeImageTree(join(dir, 'renamed'));
    mkdirSync(join(other, 'dog'));
    writeFileSync(join(other, 'dog', 'a.png'), readFileSync(join(other, 'cat', 'img-00.png')));
    rmSync(join(other, 'cat'), { recursive: true });
    const r = run(['eval', '--model', model, '--data', other]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `${other}: class folders do not match ${model}'s classes: missing cat; extra dog; expected ant, bee, cat`,
    );
    const r2 = run(['eval', '--model', model, '--data', tree, '--size', '4x4']);
    expect(r2.code).toBe(2);
    expect(r2.err).toContain(`--size 4x4: ${model} takes 8x8 images (HxW)`);
    // A model whose dataset has no loader here (an imported one, say) needs --data.
    const foreign = join(dir, 'foreign');
    cpSync(model, foreign, { recursive: true });
    const m = JSON.parse(readFileSync(join(foreign, 'model.json'), 'utf8'));
    m.provenance.dataset = { name: 'elsewhere', sha256: '' };
    writeFileSync(join(foreign, 'model.json'), JSON.stringify(m));
    const r3 = run(['eval', '--model', foreign]);
    expect(r3.code).toBe(2);
    expect(r3.err).toContain(`${foreign} records dataset 'elsewhere', not one of mnist,`);
    expect(JSON.parse(run(['eval', '--model', foreign, '--data', tree]).out).count).toBe(36);
    const garbled = join(dir, 'garbled');
    mkdirSync(garbled);
    for (const c of ['ant', 'bee', 'cat']) {
      mkdirSync(join(garbled, c));
      writeFileSync(join(garbled, c, 'x.png'), 'not an image');
    }
    const bad = run(['eval', '--model', model, '--data', garbled]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(`${join(garbled, 'ant', 'x.png')}: not a PNG or JPEG image`);
  }, 60_000);

  test('convert, harden, certify and audit take the model with its tree', () => {
    const hashed = join(dir, 'model-h2');
    const cv = run([
      'convert',
      '--from',
      model,
      '--compression',
      '1/2',
      '--data',
      tree,
      '--out',
      hashed,
    ]);
    expect(cv.code).toBe(0);
    const m = JSON.parse(readFileSync(join(hashed, 'model.json'), 'utf8'));
    expect(m.provenance.dataset).toMatchObject({
      name: 'bugs',
      kind: 'image-folder',
      testCount: 9,
    });
    const gi = join(dir, 'model-h2-gi');
    const hd = run(['harden', '--model', hashed, '--gi', 'scale:100', '--data', tree, '--out', gi]);
    expect(hd.code).toBe(0);
    expect(JSON.parse(run(['eval', '--model', gi, '--data', tree]).out).count).toBe(9);
    const ct = run([
      'certify',
      '--model',
      model,
      '--data',
      tree,
      '--eps',
      '0.01',
      '--threads',
      '1',
    ]);
    expect(ct.code).toBe(0);
    expect(JSON.parse(ct.out).n).toBe(9);
    const report = join(dir, 'audit');
    const au = run([
      'audit',
      '--model',
      hashed,
      '--data',
      tree,
      '--n',
      '3',
      '--attacks',
      'fgsm',
      '--configurations',
      'dense,hashed',
      '--certify',
      'off',
      '--out',
      report,
      '--checkpoint',
      join(dir, 'audit.ckpt.json'),
    ]);
    expect(au.code).toBe(0);
    const r = JSON.parse(readFileSync(`${report}.json`, 'utf8'));
    expect([r.dataset, r.n]).toEqual(['bugs', 3]);
  }, 60_000);

  test('usage errors: --data or --dataset, exactly one; tree flags need --data', () => {
    const out = join(dir, 'never');
    const cases: [string[], string][] = [
      [
        [...train(out), '--data', tree, '--dataset', 'synthetic'],
        'give --dataset NAME or --data DIR, not both',
      ],
      [train(out), 'give the training data: --dataset NAME'],
      [
        [...train(out), '--dataset', 'synthetic', '--size', '8x8'],
        '--size shapes the images of --data DIR: give --data',
      ],
      [[...train(out), '--data', tree, '--size', '8by8'], '--size: expected HxW, e.g. 28x28'],
      [
        [...train(out), '--data', tree, '--val-split', '1'],
        '--val-split: expected a share in (0, 1)',
      ],
      [
        [...train(out), '--data', tree, '--channels', '2'],
        "--channels: expected one of 1, 3, got '2'",
      ],
    ];
    for (const [args, message] of cases) {
      const r = run(args);
      expect(r.err).toContain(message);
      expect(r.code).toBe(2);
    }
    const missing = run([...train(out), '--data', join(dir, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(`${join(dir, 'nope')}: ImageFolder root not found`);
  }, 60_000);
});

test('default validation rows: a tenth (5,000 from 50,000), at least one per class where that leaves most for training', () => {
  expect([
    defaultValidationRows(60_000, 10),
    defaultValidationRows(27),
    defaultValidationRows(27, 3),
    defaultValidationRows(27, 7),
    defaultValidationRows(8, 3),
  ]).toEqual([5000, 2, 3, 2, 0]);
});
