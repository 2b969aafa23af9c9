// Finite-difference gradient checks in float64 for every op of the autodiff op table.
import { describe, expect, test } from 'bun:test';
import * as ops from '../../src/autodiff/ops.ts';
import { gradients, noGrad, opTable } from '../../src/autodiff/index.ts';
import { tensor, Tensor } from '../../src/tensor/tensor.ts';
import { hashTable } from '../../src/hash/hashed-nets.ts';
import { awayFromZero, randomTensor } from '../helpers/random.ts';
import { backends, RELATIVE_TOLERANCE } from '../helpers/backends.ts';
import { referenceBackend, withBackend } from '../../src/backend/index.ts';

/** A case: differentiable inputs and a function of them that uses the op under test. */
type Case = { inputs: () => Tensor[]; f: (...xs: Tensor[]) => Tensor };

const labels = tensor([2, 0, 1], [3], 'f64');
const labels32 = tensor([2, 0, 1], [3], 'f32');
const pos = (shape: number[]) => randomTensor(shape, 0.5, 2);

const cases: Record<string, Case> = {
  neg: { inputs: () => [randomTensor([3, 4])], f: ops.neg },
  abs: { inputs: () => [awayFromZero([3, 4])], f: ops.abs },
  sign: { inputs: () => [awayFromZero([3, 4])], f: ops.sign },
  exp: { inputs: () => [randomTensor([3, 4])], f: ops.exp },
  log: { inputs: () => [pos([3, 4])], f: ops.log },
  tanh: { inputs: () => [randomTensor([3, 4], -2, 2)], f: ops.tanh },
  sqrt: { inputs: () => [pos([3, 4])], f: ops.sqrt },
  square: { inputs: () => [randomTensor([3, 4])], f: ops.square },
  relu: { inputs: () => [awayFromZero([3, 4])], f: ops.relu },
  // Binary ops are checked with broadcasting on both sides ([2,3,1] against [3,4]).
  add: { inputs: () => [randomTensor([2, 3, 1]), randomTensor([3, 4])], f: ops.add },
  sub: { inputs: () => [randomTensor([2, 3, 1]), randomTensor([3, 4])], f: ops.sub },
  mul: { inputs: () => [randomTensor([2, 3, 1]), randomTensor([3, 4])], f: ops.mul },
  div: { inputs: () => [randomTensor([2, 3, 1]), pos([3, 4])], f: ops.div },
  maximum: { inputs: () => [randomTensor([3, 4]), randomTensor([3, 4])], f: ops.maximum },
  minimum: { inputs: () => [randomTensor([3, 4]), randomTensor([1, 4])], f: ops.minimum },
  clamp: { inputs: () => [randomTensor([3, 4], -2, 2)], f: (x) => ops.clamp(x, -0.95, 1.05) },
  sum: { inputs: () => [randomTensor([2, 3, 4])], f: (x) => ops.sum(x, [0, 2], true) },
  mean: { inputs: () => [randomTensor([2, 3, 4])], f: (x) => ops.mean(x, [1]) },
  max: { inputs: () => [randomTensor([2, 5, 3])], f: (x) => ops.max(x, 1) },
  broadcastTo: { inputs: () => [randomTensor([3, 1])], f: (x) => ops.broadcastTo(x, [2, 3, 4]) },
  reshape: { inputs: () => [randomTensor([2, 6])], f: (x) => ops.reshape(x, [3, 4]) },
  matmul: {
    inputs: () => [randomTensor([3, 4]), randomTensor([5, 4]), randomTensor([3, 5])],
    // All four transpose combinations in one case.
    f: (a, b, c) =>
      ops.add(
        ops.add(
          ops.sum(ops.square(ops.matmul(a, b, false, true))),
          ops.sum(ops.matmul(a, c, true, false)),
        ),
        ops.add(ops.sum(ops.square(ops.matmul(c, b))), ops.sum(ops.matmul(b, c, true, true))),
      ),
  },
  biasAdd: { inputs: () => [randomTensor([2, 3, 2, 2]), randomTensor([3])], f: ops.biasAdd },
  conv2d: {
    inputs: () => [randomTensor([2, 2, 5, 6]), randomTensor([3, 2, 3, 3])],
    f: (x, w) =>
      ops.add(
        ops.sum(ops.square(ops.conv2d(x, w, { stride: 2, padding: 1 }))),
        ops.sum(ops.conv2d(x, w, { stride: 1, padding: 0 })),
      ),
  },
  conv2dTranspose: {
    inputs: () => [randomTensor([2, 3, 3, 3]), randomTensor([3, 2, 3, 3])],
    f: (y, w) =>
      ops.sum(ops.square(ops.conv2dTranspose(y, w, { stride: 2, padding: 1 }, [2, 5, 6]))),
  },
  maxPool2d: {
    inputs: () => [randomTensor([2, 2, 5, 4])],
    f: (x) => ops.maxPool2d(x, { kernelSize: 2, stride: 2 }),
  },
  avgPool2d: {
    inputs: () => [randomTensor([2, 2, 5, 5])],
    f: (x) => ops.avgPool2d(x, { kernelSize: 3, stride: 2 }),
  },
  softmax: { inputs: () => [randomTensor([3, 5], -3, 3)], f: ops.softmax },
  logSoftmax: { inputs: () => [randomTensor([3, 5], -3, 3)], f: ops.logSoftmax },
  // Conv-shaped virtual weight [2,3,2,2] from 5 real weights: rows 2, cols 3·2·2, many collisions.
  hashGather: {
    inputs: () => [randomTensor([5])],
    f: (w) => ops.square(ops.hashGather(w, hashTable(2, 12, 77, 5), [2, 3, 2, 2])),
  },
  crossEntropy: {
    inputs: () => [randomTensor([3, 4], -3, 3)],
    f: (z) => ops.crossEntropy(z, z.dtype === 'f32' ? labels32 : labels),
  },
};

/** Checks gradients of L = Σ f(x) ⊙ R (R random, fixed) against central differences, element by element. */
function checkCase(c: Case): void {
  const xs = c.inputs();
  const out0 = noGrad(() => c.f(...xs));
  const r = randomTensor([...out0.shape], -1, 1, 'f64');
  const loss = (...ys: Tensor[]) => ops.sum(ops.mul(c.f(...ys), r));
  const { grads } = gradients(() => loss(...xs), xs);
  const h = 1e-6;
  xs.forEach((x, k) => {
    expect(grads[k].shape).toEqual(x.shape);
    for (let i = 0; i < x.size; i++) {
      const orig = x.data[i];
      x.data[i] = orig + h;
      const up = noGrad(() => loss(...xs)).item();
      x.data[i] = orig - h;
      const down = noGrad(() => loss(...xs)).item();
      x.data[i] = orig;
      const numeric = (up - down) / (2 * h);
      const analytic = grads[k].data[i];
      expect(Math.abs(analytic - numeric)).toBeLessThanOrEqual(
        1e-6 * Math.max(1, Math.abs(numeric)),
      );
    }
  });
}

test('every op in the op table has a gradient-check case', () => {
  const missing = Object.keys(opTable).filter((name) => !(name in cases));
  expect(missing).toEqual([]);
});

for (const backend of backends) {
  describe(`gradient check on ${backend.name} (float64 central differences)`, () => {
    for (const name of Object.keys(cases)) {
      test(name, () => {
        expect(opTable[name]).toBeDefined();
        withBackend(backend, () => checkCase(cases[name]));
      });
    }
  });
}

/** Norm-wise relative distance ‖a − b‖∞ / max(1, ‖b‖∞). */
function relDiff(a: Tensor, b: Tensor): number {
  let d = 0,
    s = 1;
  for (let i = 0; i < b.size; i++) {
    d = Math.max(d, Math.abs(a.data[i] - b.data[i]));
    s = Math.max(s, Math.abs(b.data[i]));
  }
  return d / s;
}

// The fast backends run float32 only (f64 takes the reference path), so the checks above would not reach
// their kernels: here every op's float32 backward pass on each fast backend is compared with the float32
// reference (rounding-level agreement) and with the float64 reference gradient the checks above validated.
for (const backend of backends.filter((b) => b !== referenceBackend)) {
  describe(`float32 gradients on ${backend.name} against the reference`, () => {
    for (const name of Object.keys(cases)) {
      test(name, () => {
        const c = cases[name];
        const x64 = c.inputs();
        const x32 = x64.map((t) => new Tensor(t.shape, Float32Array.from(t.data)));
        const r64 = randomTensor([...noGrad(() => c.f(...x64)).shape], -1, 1, 'f64');
        const r32 = new Tensor(r64.shape, Float32Array.from(r64.data));
        const run = (xs: Tensor[], r: Tensor) =>
          gradients(() => ops.sum(ops.mul(c.f(...xs), r)), xs).grads;
        const fast = withBackend(backend, () => run(x32, r32));
        const ref32 = withBackend(referenceBackend, () => run(x32, r32));
        const ref64 = withBackend(referenceBackend, () => run(x64, r64));
        fast.forEach((g, k) => {
          expect(g.dtype).toBe('f32');
          expect(relDiff(g, ref32[k])).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
          expect(relDiff(g, ref64[k])).toBeLessThanOrEqual(1e-4);
        });
      });
    }
  });
}
