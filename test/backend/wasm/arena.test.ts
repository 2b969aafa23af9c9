// The wasm backend's reserved-block allocator: best-fit reuse with splitting, merging of free neighbours, the
// top of the reserved area given back, memory grown only for new space at the top, and a double release refused.
import { describe, expect, test } from 'bun:test';
import { BlockAllocator } from '../../../src/backend/wasm/block-allocator.ts';

const allocator = () => {
  const grownTo: number[] = [];
  return { a: new BlockAllocator((end) => grownTo.push(end)), grownTo };
};

describe('wasm reserved blocks', () => {
  test('a small request reuses part of a freed large block instead of taking all of it', () => {
    const { a, grownTo } = allocator();
    const big = a.reserve(4 << 20),
      guard = a.reserve(16);
    a.release(big);
    const small = a.reserve(4096);
    expect(small.offset).toBe(big.offset); // best fit, split: the rest stays free
    const rest = a.reserve((4 << 20) - 4096);
    expect(rest.offset).toBe(4096);
    expect(grownTo).toEqual([4 << 20, (4 << 20) + 16]); // no new space was needed for either
    expect(a.stats()).toEqual({ reservedEnd: (4 << 20) + 16, freeBytes: 0, freeBlocks: 0 });
    for (const b of [small, guard, rest]) a.release(b);
    expect(a.stats()).toEqual({ reservedEnd: 0, freeBytes: 0, freeBlocks: 0 });
  });

  test('best fit: the smallest hole that fits, not the first', () => {
    const { a } = allocator();
    const large = a.reserve(1024),
      g1 = a.reserve(16),
      small = a.reserve(128),
      g2 = a.reserve(16);
    a.release(large);
    a.release(small);
    expect(a.reserve(96).offset).toBe(small.offset);
    expect(a.stats().freeBlocks).toBe(2);
    void g1;
    void g2;
  });

  test('free neighbours merge, so a large request fits where two small blocks were', () => {
    const { a, grownTo } = allocator();
    const x = a.reserve(1008),
      y = a.reserve(1008),
      guard = a.reserve(16);
    a.release(y);
    a.release(x);
    expect(a.stats()).toEqual({ reservedEnd: 2032, freeBytes: 2016, freeBlocks: 1 });
    expect(a.reserve(2016).offset).toBe(0);
    expect(grownTo.at(-1)).toBe(2032);
    void guard;
  });

  test('releasing a block twice, or one never reserved, is an error', () => {
    const { a } = allocator();
    const x = a.reserve(64);
    a.reserve(16);
    a.release(x);
    expect(() => a.release(x)).toThrow('released twice');
    expect(() => a.release({ offset: 4096, bytes: 64 })).toThrow('released twice or overlapping');
  });
});

describe('compiled chains give their arena back', () => {
  test('releaseCompiled frees the chain now; the model still answers the same', async () => {
    const { createWasmBackend } = await import('../../../src/backend/wasm/index.ts');
    const { withBackend } = await import('../../../src/backend/index.ts');
    const { arenaStats } = await import('../../../src/backend/wasm/module.ts');
    const { committedModel, mnistSubset } = await import('../../helpers/attack-data.ts');
    const m = await committedModel('mnist-lenet5');
    const { x } = await mnistSubset(256);
    withBackend(createWasmBackend()!, () => {
      const inUse = () => {
        const s = arenaStats();
        return s.reservedEnd - s.freeBytes;
      };
      m.releaseCompiled(); // the helper may hand out a model another test already ran
      const before = inUse();
      const z1 = Array.from(m.forward(x).data);
      const held = inUse();
      expect(held).toBeGreaterThan(before);
      m.releaseCompiled();
      expect(inUse()).toBe(before);
      expect(Array.from(m.forward(x).data)).toEqual(z1);
      m.releaseCompiled();
    });
  });
});
