// Knowledge distillation: the loss reduces to cross-entropy at weight 0, its soft term vanishes (value and
// gradient) when student and teacher agree, its gradient matches the closed form, and `train --distill` runs,
// records the teacher, and refuses what it cannot do.
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ops from '../../src/autodiff/ops.ts';
import { gradients } from '../../src/autodiff/grad.ts';
import { withBackend, referenceBackend } from '../../src/backend/index.ts';
import { crossEntropyLoss, distillationLoss } from '../../src/nn/losses.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

const logits = new Tensor([3, 4], Float32Array.from([1, -2, 0.5, 3, 0, 0, 0, 0, -1, 4, 2, 0.25]));
const teacher = new Tensor([3, 4], Float32Array.from([2, 0, 1, 1, 5, -1, 0, 0.5, 0, 3, 3, -2]));
const labels = new Tensor([3], Float32Array.from([3, 0, 1]));

describe('distillation loss', () => {
  test('weight 0 is the cross-entropy; a student equal to its teacher has a zero soft term and gradient', () =>
    withBackend(referenceBackend, () => {
      expect(
        distillationLoss(logits, labels, teacher, { temperature: 4, weight: 0 }).data[0],
      ).toBeCloseTo(crossEntropyLoss(logits, labels).data[0], 6);
      const same = gradients(
        () => distillationLoss(logits, labels, logits, { temperature: 3, weight: 1 }),
        [logits],
      );
      expect(Math.abs(same.value.data[0])).toBeLessThan(1e-6);
      for (const g of same.grads[0].data) expect(Math.abs(g)).toBeLessThan(1e-6);
    }));

  test('the soft gradient is a·T·(softmax(z/T) − softmax(t/T)) / N', () =>
    withBackend(referenceBackend, () => {
      const T = 2,
        a = 1;
      const {
        grads: [g],
      } = gradients(
        () => distillationLoss(logits, labels, teacher, { temperature: T, weight: a }),
        [logits],
      );
      const ps = ops.softmax(ops.mul(logits, 1 / T)).data,
        pt = ops.softmax(ops.mul(teacher, 1 / T)).data;
      g.data.forEach((v, i) => expect(v).toBeCloseTo((a * T * (ps[i] - pt[i])) / 3, 5));
    }));
});

describe('train --distill', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hg-distill-'));
  const main = join(import.meta.dir, '../../src/cli/main.ts');
  const run = (args: string[]) => {
    const p = Bun.spawnSync([process.execPath, main, 'train', ...args], {
      stdout: 'pipe',
      stderr: 'pipe',
    });
    return { code: p.exitCode, err: p.stderr.toString() };
  };
  const common = [
    '--arch',
    'mlp',
    '--dataset',
    'synthetic',
    '--epochs',
    '2',
    '--seed',
    '3',
    '--batch-size',
    '50',
    '--threads',
    '1',
  ];

  test('a student trained from a teacher records it; usage errors name the problem', () => {
    const teacherDir = join(dir, 'teacher');
    expect(run([...common, '--out', teacherDir, '--checkpoint', join(dir, 't.ckpt')]).code).toBe(0);
    const out = join(dir, 'student');
    const r = run([
      ...common,
      '--hash',
      '1/8',
      '--distill',
      teacherDir,
      '--distill-temperature',
      '3',
      '--out',
      out,
      '--checkpoint',
      join(dir, 's.ckpt'),
    ]);
    expect(r.err).toContain('saved');
    expect(r.code).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    const t = JSON.parse(readFileSync(join(teacherDir, 'model.json'), 'utf8'));
    expect(m.provenance.distill).toEqual({
      teacher: 'teacher',
      teacherWeightsSha256: t.weights.sha256,
      temperature: 3,
      weight: 0.9,
    });
    expect(m.metrics.testAccuracy).toBeGreaterThan(0.5);

    const threads = run([
      ...common.slice(0, -2),
      '--threads',
      '2',
      '--distill',
      teacherDir,
      '--out',
      join(dir, 'x'),
    ]);
    expect(threads.code).toBe(2);
    expect(threads.err).toContain('--distill runs in one thread');
    const missing = run([...common, '--distill', join(dir, 'nope'), '--out', join(dir, 'y')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--distill');
    expect(missing.err).not.toContain('    at ');
  }, 120_000);
});
