// The seeded per-class split of a one-tree ImageFolder, on names alone: deterministic in (seed, names), blind to
// listing order, stratified per class, and stable when a file is added.
import { describe, expect, test } from 'bun:test';
import { fileKey, heldOutCount, splitPerClass } from '../../src/data/folder-split.ts';

const names = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}.png`);
/** The held-out names of each class. */
const heldNames = (classes: string[][], fraction: number, seed: number) =>
  splitPerClass(classes, fraction, seed).map((h, c) => classes[c].filter((_, i) => h[i]).sort());

describe('splitPerClass', () => {
  const classes = [names('a', 40), names('b', 40), names('c', 40)];

  test('same seed, same files; another seed, other files', () => {
    expect(heldNames(classes, 0.25, 7)).toEqual(heldNames(classes, 0.25, 7));
    expect(heldNames(classes, 0.25, 8)).not.toEqual(heldNames(classes, 0.25, 7));
  });

  test('the order names are listed in does not matter', () => {
    // Reversed, rotated: the split maps back to the same names.
    const shuffled = classes.map((c) => [...c].reverse());
    shuffled[1] = [...classes[1].slice(17), ...classes[1].slice(0, 17)];
    expect(heldNames(shuffled, 0.25, 7)).toEqual(heldNames(classes, 0.25, 7));
  });

  test('stratified: each class holds out round(fraction · n), at least one, never all', () => {
    const uneven = [names('a', 12), names('b', 5), names('c', 2), names('d', 1), names('e', 100)];
    const counts = splitPerClass(uneven, 0.1, 1).map((h) => h.filter(Boolean).length);
    expect(counts).toEqual([1, 1, 1, 0, 10]);
    expect(splitPerClass(uneven, 1, 1).map((h) => h.every(Boolean))).toEqual(
      uneven.map(() => true),
    );
    expect([heldOutCount(12, 0.5), heldOutCount(2, 0.99), heldOutCount(1, 0.5)]).toEqual([6, 1, 0]);
  });

  test('adding a file moves at most one other file between the splits', () => {
    for (let seed = 0; seed < 20; seed++) {
      const before = heldNames([names('a', 30)], 0.2, seed)[0];
      const after = heldNames([[...names('a', 30), 'zz-new.png']], 0.2, seed)[0];
      expect(before.filter((n) => !after.includes(n)).length).toBeLessThanOrEqual(1);
    }
  });

  test('keys depend on seed and name only; bad fractions are refused', () => {
    expect(fileKey(3, 'cat/x.png')).toBe(fileKey(3, 'cat/x.png'));
    expect(fileKey(3, 'cat/x.png')).not.toBe(fileKey(4, 'cat/x.png'));
    expect(fileKey(3, 'a')).not.toBe(fileKey(3, 'a\0')); // the length is hashed: padding never collides
    expect(() => splitPerClass(classes, 0, 1)).toThrow('fraction must be in (0, 1]');
    expect(() => splitPerClass(classes, 1.5, 1)).toThrow('fraction must be in (0, 1]');
  });
});
