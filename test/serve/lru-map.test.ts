// The bounded least-recently-used map behind the budget and detector client records: capacity, recency (get and
// set refresh it, peek does not), deletion anywhere in the order, and iteration from the least recent, checked
// against a plain model of the same rules over a long seeded sequence.
import { describe, expect, test } from 'bun:test';
import { randomInt } from '../../src/hash/index.ts';
import { LruMap } from '../../src/serve/lru-map.ts';

describe('LruMap', () => {
  test('past capacity the least recently used entry goes; get and set refresh, peek does not', () => {
    const m = new LruMap<string, number>(3);
    m.set('a', 1).set('b', 2).set('c', 3);
    expect(m.get('a')).toBe(1); // a is now the most recent
    expect(m.peek('b')).toBe(2); // b stays the least recent
    m.set('d', 4);
    expect(m.has('b')).toBe(false);
    expect([...m.entries()]).toEqual([
      ['c', 3],
      ['a', 1],
      ['d', 4],
    ]);
    m.set('c', 30); // an update refreshes too
    m.set('e', 5);
    expect([...m.entries()].map(([k]) => k)).toEqual(['d', 'c', 'e']);
    expect(m.size).toBe(3);
  });

  test('delete anywhere, and while iterating; a capacity below 1 is refused', () => {
    const m = new LruMap<number, number>(10);
    for (let i = 0; i < 6; i++) m.set(i, i);
    expect(m.delete(0)).toBe(true);
    expect(m.delete(5)).toBe(true);
    expect(m.delete(3)).toBe(true);
    expect(m.delete(3)).toBe(false);
    for (const [k] of m.entries()) if (k % 2 === 0) m.delete(k);
    expect([...m.entries()]).toEqual([[1, 1]]);
    m.delete(1);
    expect(m.size).toBe(0);
    expect([...m.entries()]).toEqual([]);
    m.set(7, 7);
    expect([...m.entries()]).toEqual([[7, 7]]);
    expect(() => new LruMap(0)).toThrow('capacity must be an integer ≥ 1');
  });

  test('matches a plain model of the rules over 20,000 seeded operations', () => {
    const cap = 50;
    const m = new LruMap<number, number>(cap);
    let model: [number, number][] = []; // least recent first
    const touch = (k: number, v: number) => {
      model = model.filter(([mk]) => mk !== k);
      model.push([k, v]);
      if (model.length > cap) model.shift();
    };
    for (let i = 0; i < 20_000; i++) {
      const k = randomInt(9, 2 * i, 120),
        op = randomInt(9, 2 * i + 1, 4);
      if (op === 0) {
        m.set(k, i);
        touch(k, i);
      } else if (op === 1) {
        const hit = model.find(([mk]) => mk === k);
        expect(m.get(k)).toBe(hit?.[1]);
        if (hit) touch(k, hit[1]);
      } else if (op === 2) {
        expect(m.peek(k)).toBe(model.find(([mk]) => mk === k)?.[1]);
      } else {
        expect(m.delete(k)).toBe(model.some(([mk]) => mk === k));
        model = model.filter(([mk]) => mk !== k);
      }
      expect(m.size).toBe(model.length);
    }
    expect([...m.entries()]).toEqual(model);
  });
});
