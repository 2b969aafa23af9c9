// One parity table keyed by kernel id (kernel-table.ts): every kernel on every engine present (WASM primitives,
// the WASM chain, WebGPU where an adapter is) against the reference CPU kernels. Selections bit for bit, routing
// value for value; sums within the norm-wise parity tolerance; softmax per element. The table also checks itself:
// every kernel has at least one engine beside the oracle, and every WGSL kernel of a layer appears in it.
import { afterAll, describe, expect, test } from 'bun:test';
import { kernelSpecs } from '../../src/backend/webgpu/kernel-specs.ts';
import { RELATIVE_TOLERANCE } from '../helpers/backends.ts';
import {
  adapterAvailableTest,
  expectBitExact,
  expectClose,
  expectCloseEach,
  kernelRunner,
  parityGpu,
} from '../helpers/webgpu-parity.ts';
import { KERNELS, wasmAvailable, type Engine, type GpuRun, type Outputs } from './kernel-table.ts';

const device = await parityGpu('parity table');
afterAll(() => device.gpu?.device.destroy());
const run = kernelRunner(device.gpu) as unknown as GpuRun;

const present: Record<Engine, boolean> = {
  wasm: wasmAvailable,
  'wasm-chain': wasmAvailable,
  webgpu: device.gpu !== null,
};

/** Values equal element by element (NaN equals NaN, +0 equals -0). */
function expectSameValues(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  let i = 0;
  while (i < want.length && (got[i] === want[i] || (Number.isNaN(got[i]) && Number.isNaN(want[i]))))
    i++;
  expect(
    i === want.length
      ? 'equal'
      : `${what}: first difference at ${i}: got ${got[i]}, want ${want[i]}`,
  ).toBe('equal');
}

function compareOutputs(
  how: 'exact' | 'value' | 'norm' | 'each',
  what: string,
  got: Outputs,
  want: Outputs,
): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const [name, w] of Object.entries(want)) {
    const g = got[name],
      label = `${what} ${name}`;
    if (how === 'exact') expectBitExact(label, Array.from(g), Array.from(w));
    else if (how === 'value') expectSameValues(label, g, w);
    else if (how === 'each') expectCloseEach(label, g, w, RELATIVE_TOLERANCE);
    else expectClose(label, g, w, RELATIVE_TOLERANCE);
  }
}

describe('the parity table', () => {
  test('ids are unique, and every kernel runs on at least one engine beside the reference', () => {
    const ids = KERNELS.map((k) => k.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const k of KERNELS)
      expect({ id: k.id, engines: Object.keys(k.engines).length > 0 }).toEqual({
        id: k.id,
        engines: true,
      });
  });

  test('every WGSL kernel of a layer or of the hash has an entry (the GI draws have their own suite)', () => {
    const listed = new Set(KERNELS.filter((k) => k.engines.webgpu).map((k) => k.id));
    const missing = Object.keys(kernelSpecs).filter(
      (id) => !listed.has(id) && !id.startsWith('gi-') && id !== 'rng-fill',
    );
    expect(missing).toEqual([]);
  });
});

describe('webgpu in the parity table', () => {
  adapterAvailableTest(device);
});

for (const k of KERNELS) {
  describe(`kernel ${k.id}`, () => {
    for (const engine of Object.keys(k.engines) as Engine[]) {
      test.skipIf(!present[engine])(`${engine} equals the reference`, async () => {
        const cases = k.cases();
        expect(cases.length).toBeGreaterThan(0);
        for (const c of cases) {
          const want = k.cpu(c);
          const got = engine === 'webgpu' ? await k.engines.webgpu!(c, run) : k.engines[engine]!(c);
          compareOutputs(k.compare, `${k.id} on ${engine}, ${c.label}:`, got, want);
        }
      });
    }
  });
}
