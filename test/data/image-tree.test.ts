// loadImageTree on generated trees (3 classes × 12 8×8 images, grey PNG and RGB JPEG): the seeded per-class split
// and its determinism, the train/test layout, class matching, the provenance hash, and every error it names.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadImageTree } from '../../src/data/node.ts';
import { DatasetError, ImageLimitError, type Dataset } from '../../src/data/index.ts';
import { encodeJpeg, encodePng, removeTempDirs, tempDir } from './helpers.ts';
import {
  PER_CLASS,
  TREE_CLASSES,
  idOf,
  imageFile,
  solid,
  writeFiles,
  writeImageTree,
} from '../helpers/image-tree.ts';
import { ihdr, pngChunk, pngFile } from './png-fixtures.ts';

afterAll(removeTempDirs);

const CLASSES = TREE_CLASSES;
const write = writeFiles;
/** The standard tree in a new temp folder; `reverse` creates its files in the opposite order. */
const makeTree = (tag = 'tree', reverse = false) => writeImageTree(tempDir(tag), reverse);

/** The ids of a dataset's images, read back from their grey level. */
function ids(ds: Dataset): number[] {
  const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
  return Array.from({ length: ds.count }, (_, i) => idOf(ds.images[i * per])).sort((a, b) => a - b);
}

async function failure(p: Promise<unknown>): Promise<DatasetError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DatasetError);
  return e as DatasetError;
}

describe('loadImageTree: one tree, split by seed', () => {
  const root = makeTree();

  test('same seed → same files; another seed → other files; creation order does not matter', async () => {
    const a = await loadImageTree(root, { seed: 1, fraction: 0.25 });
    const again = await loadImageTree(root, { seed: 1, fraction: 0.25 });
    const reversed = await loadImageTree(makeTree('tree-reversed', true), {
      seed: 1,
      fraction: 0.25,
    });
    const other = await loadImageTree(root, { seed: 2, fraction: 0.25 });
    expect(ids(again.splits.test)).toEqual(ids(a.splits.test));
    expect(ids(reversed.splits.test)).toEqual(ids(a.splits.test));
    expect(Array.from(reversed.splits.train.images)).toEqual(Array.from(a.splits.train.images));
    expect(reversed.record.sha256).toBe(a.record.sha256);
    expect(ids(other.splits.test)).not.toEqual(ids(a.splits.test));
    // The tree hash covers every image: the split does not change it.
    expect(other.record.sha256).toBe(a.record.sha256);
  });

  test('stratified per class; disjoint and complete; class-grouped rows', async () => {
    const { splits, record } = await loadImageTree(root, { seed: 5, fraction: 0.25 });
    const { train, test: held } = splits;
    expect([train.count, held.count]).toEqual([27, 9]);
    for (const ds of [train, held])
      for (let c = 0; c < 3; c++)
        expect(ds.labels.filter((l) => l === c).length).toBe(ds === held ? 3 : 9);
    expect([...ids(train), ...ids(held)].sort((x, y) => x - y)).toEqual(
      Array.from({ length: 36 }, (_, i) => i),
    );
    // Each image keeps its class: id / 12 is the label.
    const per = 64;
    for (let i = 0; i < held.count; i++)
      expect(Math.floor(idOf(held.images[i * per]) / PER_CLASS)).toBe(held.labels[i]);
    expect(Array.from(train.labels)).toEqual([...train.labels].sort());
    expect(record).toEqual({
      name: record.name,
      layout: 'classes',
      sha256: train.sha256,
      images: { train: 27, test: 9 },
      split: { seed: 5, fraction: 0.25, rule: 'per-class-hash-rank' },
    });
    expect(held.sha256).toBe(train.sha256);
    expect(train.classes).toEqual(CLASSES);
  });

  test('channels and size come from the first image unless given; fraction 1 makes everything test', async () => {
    const grey = await loadImageTree(root);
    expect(grey.splits.train.shape).toEqual([1, 8, 8]);
    expect(grey.firstImage).toBe(join(root, 'ant/img-00.png'));
    expect(grey.splits.test.count).toBe(3); // round(0.1 · 12) = 1 per class by default
    const rgb = await loadImageTree(root, { channels: 3, size: [4, 4] });
    expect(rgb.splits.train.shape).toEqual([3, 4, 4]);
    expect(rgb.firstImage).toBeUndefined();
    const all = await loadImageTree(root, { fraction: 1 });
    expect([all.splits.train.count, all.splits.test.count]).toEqual([0, 36]);
    // An RGB JPEG first: three channels.
    const jpegFirst = write(tempDir('tree-jpeg'), [imageFile(0, 1), imageFile(1, 1)]);
    expect((await loadImageTree(jpegFirst)).splits.train.shape[0]).toBe(3);
  });

  test('the tree hash follows every file: its bytes and its path', async () => {
    const base = await loadImageTree(makeTree('tree-hash-a'));
    const changed = makeTree('tree-hash-b');
    write(changed, [['cat/img-11.jpg', encodeJpeg(solid(8, 8, 1), 8, 8)]]);
    expect((await loadImageTree(changed)).record.sha256).not.toBe(base.record.sha256);
    const renamed = makeTree('tree-hash-c');
    renameSync(join(renamed, 'ant/img-00.png'), join(renamed, 'ant/img-99.png'));
    expect((await loadImageTree(renamed)).record.sha256).not.toBe(base.record.sha256);
    expect((await loadImageTree(makeTree('tree-hash-d'))).record.sha256).toBe(base.record.sha256);
  });

  test('labels follow given classes; folders must match them exactly', async () => {
    const order = ['cat', 'ant', 'bee'];
    const { splits } = await loadImageTree(root, { classes: order, fraction: 0.25, seed: 1 });
    expect(splits.train.classes).toEqual(order);
    expect(Array.from(splits.train.labels.subarray(0, 9))).toEqual(new Array(9).fill(0)); // cat first
    const e = await failure(
      loadImageTree(root, { classes: ['ant', 'bee', 'dog'], classesOf: "the model's" }),
    );
    expect(e.message).toBe(
      `${root}: class folders do not match the model's classes: missing dog; extra cat; expected ant, bee, dog`,
    );
  });
});

describe('loadImageTree: train/ and test/', () => {
  test('used as given, with paths under train/ and test/ in the hash', async () => {
    const root = tempDir('tree-splits');
    for (let c = 0; c < 3; c++) {
      write(join(root, 'train'), [imageFile(c, 0), imageFile(c, 1), imageFile(c, 2)]);
      write(join(root, 'test'), [imageFile(c, 3)]);
    }
    const { splits, record } = await loadImageTree(root, { fraction: 0.5, seed: 9 });
    expect(record.layout).toBe('splits');
    expect(record.split).toBeUndefined();
    expect(ids(splits.test)).toEqual([3, 15, 27]);
    expect(record.images).toEqual({ train: 9, test: 3 });
  });

  test('test/ with other classes than train/, or other folders beside them, is an error', async () => {
    const root = tempDir('tree-splits-bad');
    write(join(root, 'train'), [imageFile(0, 0), imageFile(1, 0)]);
    write(join(root, 'test'), [imageFile(0, 1), imageFile(2, 1)]);
    expect((await failure(loadImageTree(root))).message).toBe(
      `${join(root, 'test')}: class folders do not match train/'s classes: missing bee; extra cat; expected ant, bee`,
    );
    write(join(root, 'val'), [imageFile(0, 2)]);
    expect((await failure(loadImageTree(root))).message).toContain(
      'has train/ and test/ beside other folders (val)',
    );
  });
});

describe('loadImageTree: errors name what is wrong', () => {
  test('missing folder, a file, no class folders, an empty class', async () => {
    const base = tempDir('tree-errors');
    expect((await failure(loadImageTree(join(base, 'nope')))).message).toBe(
      `${join(base, 'nope')}: ImageFolder root not found`,
    );
    writeFileSync(join(base, 'file'), 'x');
    expect((await failure(loadImageTree(join(base, 'file')))).message).toBe(
      `${join(base, 'file')}: ImageFolder root is not a directory`,
    );
    const flat = write(join(base, 'flat'), [['a.png', imageFile(0, 0)[1]]]);
    expect((await failure(loadImageTree(flat))).message).toBe(
      `${flat}: no class folders (expected <class>/<image> subfolders); it holds 1 images itself: put them in a folder per class`,
    );
    const root = makeTree('tree-empty');
    mkdirSync(join(root, 'dog'));
    writeFileSync(join(root, 'dog', 'readme.txt'), 'no images here');
    expect((await failure(loadImageTree(root))).message).toBe(
      `${join(root, 'dog')}: class folder has no images (.png, .jpg or .jpeg; it holds 1 other entries)`,
    );
  });

  test('undecodable and unreadable files are named with the reason', async () => {
    const root = makeTree('tree-bad');
    writeFileSync(join(root, 'bee', 'broken.png'), 'not an image at all');
    let e = await failure(loadImageTree(root));
    expect(e.file).toBe(join(root, 'bee', 'broken.png'));
    expect(e.problem).toStartWith('not a PNG or JPEG image (first bytes: 6e 6f 74');
    const png = imageFile(0, 0)[1];
    writeFileSync(join(root, 'bee', 'broken.png'), png.subarray(0, png.length - 20));
    e = await failure(loadImageTree(root));
    expect(e.message).toStartWith(`${join(root, 'bee', 'broken.png')}: cannot decode PNG:`);
    writeFileSync(join(root, 'bee', 'broken.png'), png);
    symlinkSync(join(root, 'gone.jpg'), join(root, 'cat', 'dangling.jpg'));
    e = await failure(loadImageTree(root));
    expect(e.message).toBe(`${join(root, 'cat', 'dangling.jpg')}: file not found`);
  });

  test('non-image files and nested folders are skipped and counted; hidden files silently', async () => {
    const root = makeTree('tree-skip');
    writeFileSync(join(root, 'ant', 'notes.txt'), 'x');
    writeFileSync(join(root, 'bee', 'labels.csv'), 'x');
    writeFileSync(join(root, 'bee', '.DS_Store'), 'x');
    mkdirSync(join(root, 'cat', 'more'));
    const { skipped, record } = await loadImageTree(root);
    expect(skipped).toEqual({ count: 3, first: join(root, 'ant', 'notes.txt') });
    expect(record.images.train + record.images.test).toBe(36);
  });

  test('image count and per-image pixel limits', async () => {
    const root = makeTree('tree-limits');
    expect((await failure(loadImageTree(root, { maxImages: 35 }))).message).toBe(
      `${root}: 36 images, more than the limit of 35 images per tree`,
    );
    // 5000×5000 in the header and no pixel data: refused from the header, before any decoding.
    writeFileSync(
      join(root, 'cat', 'huge.png'),
      pngFile([pngChunk('IHDR', ihdr(5000, 5000, 8, 0))]),
    );
    const e = await failure(loadImageTree(root));
    expect(e).toBeInstanceOf(ImageLimitError);
    expect(e.message).toBe(
      `${join(root, 'cat', 'huge.png')}: PNG is 5000×5000, more than the 4194304-pixel limit`,
    );
    const small = await failure(
      loadImageTree(makeTree('tree-limits2'), { imageLimits: { maxPixels: 63, maxSide: 64 } }),
    );
    expect(small.problem).toBe('PNG is 8×8, more than the 63-pixel limit');
  });

  test('mixed sizes name both files and sizes unless a size is given', async () => {
    const root = makeTree('tree-sizes');
    write(root, [['cat/wide.png', encodePng(solid(10, 6, 99), 10, 6, 0)]]);
    const e = await failure(loadImageTree(root, { sizeHint: 'pass --size HxW' }));
    expect(e.message).toBe(
      `${join(root, 'cat/wide.png')}: image is 10×6 (w×h), expected 8×8 like ${join(root, 'ant/img-00.png')}; pass --size HxW`,
    );
    const resized = await loadImageTree(root, { size: [8, 8] });
    expect(resized.splits.train.count + resized.splits.test.count).toBe(37);
    const required = await failure(
      loadImageTree(root, { size: [8, 8], resize: false, sizeSource: '(the model input)' }),
    );
    expect(required.problem).toBe(
      'image is 10×6 (w×h), expected 8×8 (the model input); give a size to resize',
    );
  });
});
