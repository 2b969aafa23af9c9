// Gradient inhibition as real parameter edits: exact formulas, scale keeps every prediction, random draws
// come from the request seed only, the defended model's compiled gradients equal the autodiff's, and
// `harden` writes a defended model that records its spec and the before/after measurements.
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ops from '../../src/autodiff/ops.ts';
import { noGrad } from '../../src/autodiff/grad.ts';
import { referenceBackend, withBackend } from '../../src/backend/index.ts';
import { createWasmBackend } from '../../src/backend/wasm/index.ts';
import { DefendedModel } from '../../src/defense/defended-model.ts';
import { parseGiStage, type DefenseSpec } from '../../src/defense/defense-spec.ts';
import {
  applyMagnitude,
  applyScale,
  lastWeighted,
  randomLogitScales,
} from '../../src/defense/gradient-inhibition.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { argmaxRows } from '../../src/attacks/target.ts';
import { committedModel, mnistSubset } from '../helpers/attack-data.ts';

const spec = (stages: DefenseSpec['stages']): DefenseSpec => ({
  stages,
  source: { name: 't', weightsSha256: '', hashed: true },
});

describe('gradient inhibition', () => {
  test('stage parsing: valid forms, and errors that name the stage', () => {
    expect(parseGiStage('scale:100')).toEqual({ kind: 'scale', alpha: 100 });
    expect(parseGiStage('magnitude:0.01')).toEqual({ kind: 'magnitude', eps: 0.01 });
    expect(parseGiStage('random:1,100')).toEqual({
      kind: 'random',
      alphaMin: 1,
      alphaMax: 100,
      noise: 0,
    });
    expect(parseGiStage('random:2,5,0.1')).toEqual({
      kind: 'random',
      alphaMin: 2,
      alphaMax: 5,
      noise: 0.1,
    });
    for (const bad of [
      'scale:0',
      'scale:-1',
      'scale',
      'random:5,2',
      'random:1',
      'magnitude:x',
      'blur:3',
    ])
      expect(() => parseGiStage(bad)).toThrow(`--gi '${bad}'`);
  });

  test('magnitude edits every fully connected weight by ε·sign and nothing else; scale multiplies the last layer', async () => {
    const m = await committedModel('mnist-lenet5-h8');
    const mag = applyMagnitude(m.layers, m.params, 0.01);
    for (const l of m.layers) {
      if (!('weight' in l)) continue;
      const before = m.params.get(l.weight)!,
        after = mag.get(l.weight)!;
      const fc = l.type === 'dense' || l.type === 'hashed-dense';
      before.data.forEach((v, i) =>
        expect(after.data[i]).toBe(Math.fround(fc ? v + 0.01 * Math.sign(v) : v)),
      );
      expect(mag.get(l.bias)).toBe(m.params.get(l.bias)!);
    }
    const sc = applyScale(m.layers, m.params, 100);
    const last = lastWeighted(m.layers);
    m.params
      .get(last.weight)!
      .data.forEach((v, i) => expect(sc.get(last.weight)!.data[i]).toBe(Math.fround(v * 100)));
    m.params
      .get(last.bias)!
      .data.forEach((v, i) => expect(sc.get(last.bias)!.data[i]).toBe(Math.fround(v * 100)));
  });

  test('scale leaves every prediction unchanged (1000 test images) and zeroes many float32 input gradients', async () => {
    const m = await committedModel('mnist-lenet5-h8');
    const { x, y } = await mnistSubset(1000);
    const scaled = new Sequential(m.inputShape, m.layers, applyScale(m.layers, m.params, 100));
    expect(argmaxRows(noGrad(() => scaled.forward(x)))).toEqual(
      argmaxRows(noGrad(() => m.forward(x))),
    );
    const zeroShare = (net: Sequential) => {
      const dx = net.lossGradients(x, (z) => ops.sum(ops.crossEntropy(z, y)), { input: true }).dx!;
      let zero = 0;
      for (let r = 0; r < 1000; r++)
        if (dx.data.subarray(r * 784, (r + 1) * 784).every((v) => v === 0)) zero++;
      return zero / 1000;
    };
    expect(zeroShare(m)).toBeLessThan(0.05);
    expect(zeroShare(scaled)).toBeGreaterThan(0.5);
  });

  test('random: per-row scales in [min, max] from the request seed alone; same seed, same logits', async () => {
    const m = await committedModel('mnist-lenet5-h8');
    const { x } = await mnistSubset(16);
    const stage = { kind: 'random' as const, alphaMin: 2, alphaMax: 50, noise: 0.05 };
    const a = randomLogitScales(stage, 42, 16);
    expect(Array.from(randomLogitScales(stage, 42, 16))).toEqual(Array.from(a));
    expect(Array.from(a).every((v) => v >= 2 && v <= 50)).toBe(true);
    expect(new Set(a).size).toBeGreaterThan(10);
    const d = new DefendedModel(m, spec([stage]), 9);
    expect(d.randomized).toBe(true);
    const z1 = noGrad(() => d.forward(x, 7)),
      z2 = noGrad(() => d.forward(x, 7)),
      z3 = noGrad(() => d.forward(x, 8));
    expect(Array.from(z2.data)).toEqual(Array.from(z1.data));
    expect(Array.from(z3.data)).not.toEqual(Array.from(z1.data));
    // Without a seed every call draws afresh (the attack's view).
    expect(Array.from(noGrad(() => d.forward(x)).data)).not.toEqual(
      Array.from(noGrad(() => d.forward(x)).data),
    );
  });

  test('the defended model gives the same gradients compiled (wasm) and op by op (reference)', async () => {
    const m = await committedModel('mnist-lenet5-h8');
    const { x, y } = await mnistSubset(8);
    const d = new DefendedModel(
      m,
      spec([{ kind: 'random', alphaMin: 1, alphaMax: 10, noise: 0.05 }]),
    );
    const run = () =>
      d.lossGradients(x, (z) => ops.sum(ops.crossEntropy(z, y)), { input: true }, 123);
    const fast = withBackend(createWasmBackend()!, run),
      ref = withBackend(referenceBackend, run);
    expect(fast.loss).toBeCloseTo(ref.loss, 3);
    let diff = 0,
      scale = 1;
    ref.dx!.data.forEach((v, i) => {
      diff = Math.max(diff, Math.abs(v - fast.dx!.data[i]));
      scale = Math.max(scale, Math.abs(v));
    });
    expect(diff / scale).toBeLessThan(1e-5);
  });
});

describe('harden CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hg-harden-'));
  const main = join(import.meta.dir, '../../src/cli/main.ts');
  const run = (args: string[]) => {
    const p = Bun.spawnSync([process.execPath, main, 'harden', ...args], {
      stdout: 'pipe',
      stderr: 'pipe',
    });
    return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
  };

  test('writes the defended model with its spec, accuracy before/after and zero-gradient shares', () => {
    const out = join(dir, 'scaled');
    const r = run(['--model', 'models/mnist-lenet5-h8', '--gi', 'scale:100', '--out', out]);
    expect(r.code).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(m.defense.stages).toEqual([{ kind: 'scale', alpha: 100 }]);
    expect(m.defense.source.name).toBe('mnist-lenet5-h8');
    expect(m.metrics.testAccuracy).toBe(m.metrics.testAccuracyBefore);
    expect(m.metrics.predictionsChanged).toBe(0);
    expect(m.metrics.zeroGradientShare).toBeGreaterThan(0.5);
    expect(m.provenance.harden.totalSeconds).toBeGreaterThan(0);
    // A defended model is not hardened twice; bad stages are usage errors.
    const again = run(['--model', out, '--gi', 'scale:2', '--out', join(dir, 'twice')]);
    expect(again.code).toBe(2);
    expect(again.err).toContain('already defended');
    const bad = run([
      '--model',
      'models/mnist-lenet5-h8',
      '--gi',
      'scale:0',
      '--out',
      join(dir, 'bad'),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--gi 'scale:0'");
  }, 60_000);

  test('magnitude:auto calibrates ε on the validation split within the tolerance and records the sweep', () => {
    const out = join(dir, 'mag-auto');
    const r = run(['--model', 'models/mnist-mlp-h8', '--gi', 'magnitude:auto,0.3', '--out', out]);
    expect(r.code).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    const cal = m.provenance.harden.magnitudeCalibration;
    expect(m.defense.stages).toEqual([{ kind: 'magnitude', eps: cal.eps }]);
    expect(cal.eps).toBeGreaterThan(0);
    // Selected on the last 5,000 training rows, never on the test split it is then scored on.
    expect(cal.rowCount).toBe(5000);
    expect(cal.rows).toEqual({ rows: 'last', count: 5000 });
    // The chosen ε is within the bound on the validation rows; the next grid point is not.
    expect(
      cal.sweep.find((p: { eps: number }) => p.eps === cal.eps).changePp,
    ).toBeGreaterThanOrEqual(-0.3 - 1e-9);
    expect(cal.sweep.find((p: { eps: number }) => p.eps === cal.eps).accuracy).not.toBe(
      m.metrics.testAccuracy,
    );
    const after = cal.sweep[cal.sweep.findIndex((p: { eps: number }) => p.eps === cal.eps) + 1];
    if (after) expect(after.changePp).toBeLessThan(-0.3);
    const bad = run([
      '--model',
      'models/mnist-mlp-h8',
      '--gi',
      'magnitude:auto,-1',
      '--out',
      join(dir, 'bad-auto'),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('magnitude:auto');
  }, 120_000);
});
