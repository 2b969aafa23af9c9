// Magnitude GI's calibrated ε: the largest grid value whose accuracy change stays within the tolerance, the scan
// stopping at the first value past it; the sweep's numbers are the accuracies of the actually edited models.
import { describe, expect, test } from 'bun:test';
import { applyMagnitude } from '../../src/defense/gradient-inhibition.ts';
import { calibrateMagnitude } from '../../src/defense/magnitude-calibration.ts';
import { accuracy } from '../../src/nn/evaluate.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { committedModel, mnistSubset } from '../helpers/attack-data.ts';

describe('magnitude calibration', () => {
  test('picks the last grid ε within the tolerance; the sweep stops at the first one past it', async () => {
    const m = await committedModel('mnist-lenet5-h8');
    const { x, y } = await mnistSubset(1000);
    const rows = {
      images: x.data as Float32Array,
      labels: Uint8Array.from(y.data),
      shape: [1, 28, 28] as const,
      count: 1000,
    };
    const c = calibrateMagnitude(m.inputShape, m.layers, m.params, rows, 0.3);
    const base = accuracy(m, rows).accuracy;
    expect(c.baseAccuracy).toBe(base);
    for (const p of c.sweep) {
      const edited = new Sequential(
        m.inputShape,
        m.layers,
        applyMagnitude(m.layers, m.params, p.eps),
      );
      expect(p.accuracy).toBe(accuracy(edited, rows).accuracy);
    }
    const passing = c.sweep.filter((p) => p.changePp >= -0.3);
    expect(c.eps).toBe(passing[passing.length - 1].eps);
    expect(c.sweep.slice(0, -1).every((p) => p.changePp >= -0.3)).toBe(true);
    // On this model accuracy collapses well inside the grid, so the scan ends on a failing ε.
    expect(c.sweep[c.sweep.length - 1].changePp).toBeLessThan(-0.3);
    // A looser tolerance never picks a smaller ε.
    expect(
      calibrateMagnitude(m.inputShape, m.layers, m.params, rows, 2).eps,
    ).toBeGreaterThanOrEqual(c.eps);
  }, 60_000);

  test('ε 0 when even the smallest grid value breaks the tolerance; bad arguments are named', async () => {
    const m = await committedModel('mnist-lenet5-h8');
    const { x, y } = await mnistSubset(200);
    const rows = {
      images: x.data as Float32Array,
      labels: Uint8Array.from(y.data),
      shape: [1, 28, 28] as const,
      count: 200,
    };
    expect(calibrateMagnitude(m.inputShape, m.layers, m.params, rows, 0, [0.5]).eps).toBe(0);
    expect(() => calibrateMagnitude(m.inputShape, m.layers, m.params, rows, -1)).toThrow(
      'tolerance',
    );
    expect(() =>
      calibrateMagnitude(m.inputShape, m.layers, m.params, { ...rows, count: 0 }, 0.3),
    ).toThrow('no rows');
  }, 60_000);
});
