// The validation split held out of the training rows: the last n rows, or the last n/classes of each class on
// class-grouped data; disjoint from what training sees, deterministic, and refused when it cannot be made.
import { describe, expect, test } from 'bun:test';
import { validationSplit, type Dataset } from '../../src/data/dataset.ts';
import { syntheticDataset } from '../../src/data/synthetic.ts';

/** Each row's first pixel holds its original index, so a split's rows can be traced back. */
function traced(ds: Dataset): Dataset {
  const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const images = Float32Array.from(ds.images);
  for (let i = 0; i < ds.count; i++) images[i * per] = i;
  return { ...ds, images };
}
const rowsOf = (ds: Dataset) =>
  Array.from(
    { length: ds.count },
    (_, i) => ds.images[i * ds.shape[0] * ds.shape[1] * ds.shape[2]],
  );

describe('validationSplit', () => {
  test('shuffled rows: the last n are held out, the rest train, in order', () => {
    const ds = traced(syntheticDataset({ count: 500, shape: [1, 4, 4], classes: 5, seed: 1 }));
    const { train, validation, record } = validationSplit(ds, 50);
    expect(record).toEqual({ rows: 'last', count: 50 });
    expect(rowsOf(validation)).toEqual(Array.from({ length: 50 }, (_, i) => 450 + i));
    expect(rowsOf(train)).toEqual(Array.from({ length: 450 }, (_, i) => i));
    expect(Array.from(validation.labels)).toEqual(Array.from(ds.labels.subarray(450)));
  });

  test('class-grouped rows (folder order): the last n/classes of each class, so every class is validated', () => {
    const base = syntheticDataset({ count: 300, shape: [1, 4, 4], classes: 3, seed: 2 });
    const order = Array.from({ length: 300 }, (_, i) => i).sort(
      (a, b) => base.labels[a] - base.labels[b] || a - b,
    );
    const per = 16;
    const images = new Float32Array(300 * per),
      labels = new Uint8Array(300);
    order.forEach((src, i) => {
      images.set(base.images.subarray(src * per, (src + 1) * per), i * per);
      labels[i] = base.labels[src];
    });
    const grouped = traced({ ...base, images, labels });
    const { train, validation, record } = validationSplit(grouped, 30);
    expect(record).toEqual({ rows: 'last-per-class', count: 30 });
    const counts = [0, 0, 0];
    for (const l of validation.labels) counts[l]++;
    expect(counts).toEqual([10, 10, 10]);
    // Each class's held-out rows are its last 10 in the data's order.
    for (let c = 0; c < 3; c++) {
      const ofClass = rowsOf(grouped).filter((_, i) => grouped.labels[i] === c);
      const held = rowsOf(validation).filter((_, i) => validation.labels[i] === c);
      expect(held).toEqual(ofClass.slice(-10));
    }
    const seen = new Set([...rowsOf(train), ...rowsOf(validation)]);
    expect(seen.size).toBe(300);
    expect(train.count).toBe(270);
  });

  test('the same data gives the same split; impossible sizes are refused', () => {
    const ds = syntheticDataset({ count: 100, shape: [1, 4, 4], classes: 4, seed: 3 });
    expect(Array.from(validationSplit(ds, 10).validation.images)).toEqual(
      Array.from(validationSplit(ds, 10).validation.images),
    );
    expect(() => validationSplit(ds, 0)).toThrow(/n must be an integer in \[1, 99\]/);
    expect(() => validationSplit(ds, 100)).toThrow(/n must be an integer/);
    expect(() => validationSplit(ds, 2.5)).toThrow(/n must be an integer/);
  });
});
