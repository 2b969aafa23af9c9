// ImageFolder on generated temp trees: class order, file order, labels, shapes, resize, limit, errors.
import { test, expect, describe, afterAll } from 'bun:test';
import { loadImageFolder } from '../../src/data/node.ts';
import { DatasetError } from '../../src/data/index.ts';
import { tempDir, removeTempDirs, rgbaImage, encodePng, encodeJpeg } from './helpers.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

afterAll(removeTempDirs);

/** A solid-colour RGBA image. */
const solid = (w: number, h: number, v: number) => rgbaImage(w, h, () => [v, v, v]);

/** Writes files into root/<rel path>, making folders. */
function tree(root: string, files: Record<string, Uint8Array>): string {
  for (const [rel, bytes] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), bytes);
  }
  return root;
}

/** Three classes out of alphabetical order on disk; pixel value encodes class and file index. */
function sampleTree(): string {
  return tree(tempDir('imgfolder'), {
    'train/zebra/b.png': encodePng(solid(4, 3, 200), 4, 3),
    'train/zebra/a.png': encodePng(solid(4, 3, 190), 4, 3, 0),
    'train/ant/01.png': encodePng(solid(4, 3, 10), 4, 3),
    'train/ant/00.jpg': encodeJpeg(solid(4, 3, 0), 4, 3),
    'train/ant/.DS_Store': new Uint8Array([1, 2, 3]),
    'train/cat/x.png': encodeJpeg(solid(4, 3, 100), 4, 3), // JPEG bytes under a .png name: sniffed, not trusted
    'test/ant/0.png': encodePng(solid(4, 3, 5), 4, 3),
  });
}

async function failure(p: Promise<unknown>): Promise<DatasetError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DatasetError);
  return e as DatasetError;
}

describe('loadImageFolder', () => {
  test('classes sorted, files sorted, labels and shapes', async () => {
    const root = sampleTree();
    const ds = await loadImageFolder(root, { split: 'train', channels: 3 });
    expect(ds.classes).toEqual(['ant', 'cat', 'zebra']);
    expect(ds.count).toBe(5);
    expect(Array.from(ds.labels)).toEqual([0, 0, 1, 2, 2]);
    expect(ds.shape).toEqual([3, 3, 4]);
    expect(ds.images.length).toBe(5 * 36);
    // First pixel of each image, in load order: ant/00.jpg, ant/01.png, cat/x.png, zebra/a.png, zebra/b.png.
    const first = [0, 1, 2, 3, 4].map((i) => Math.round(ds.images[i * 36] * 255));
    expect(first[1]).toBe(10);
    expect(first[3]).toBe(190);
    expect(first[4]).toBe(200);
    expect(Math.abs(first[0] - 0)).toBeLessThanOrEqual(3);
    expect(Math.abs(first[2] - 100)).toBeLessThanOrEqual(3);
    expect(ds.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(ds.name.endsWith('/train')).toBe(true);
    // Same tree → same dataset.
    const again = await loadImageFolder(root, { split: 'train', channels: 3 });
    expect(again.sha256).toBe(ds.sha256);
    expect(Array.from(again.images)).toEqual(Array.from(ds.images));
  });

  test('grayscale, limit per class, and the other split', async () => {
    const root = sampleTree();
    const ds = await loadImageFolder(root, { split: 'train', channels: 1, limit: 1 });
    expect(ds.count).toBe(3);
    expect(ds.shape).toEqual([1, 3, 4]);
    expect(ds.images[ds.images.length - 1]).toBe(Math.fround(190 / 255)); // zebra/a.png sorts first
    const t = await loadImageFolder(root, { split: 'test', channels: 1 });
    expect(t.classes).toEqual(['ant']);
    expect(t.count).toBe(1);
  });

  test('wrong size is an error naming the file unless size is given', async () => {
    const root = tree(tempDir('imgfolder-size'), {
      'train/a/1.png': encodePng(solid(4, 4, 50), 4, 4),
      'train/a/2.png': encodePng(solid(8, 6, 150), 8, 6),
    });
    const e = await failure(loadImageFolder(root, { split: 'train', channels: 3 }));
    expect(e.message).toContain(join(root, 'train/a/2.png'));
    expect(e.message).toContain('image is 8×6 (w×h), expected 4×4');
    const ds = await loadImageFolder(root, { split: 'train', channels: 3, size: [2, 2] });
    expect(ds.shape).toEqual([3, 2, 2]);
    expect(ds.images[0]).toBeCloseTo(50 / 255, 6);
    expect(ds.images[12]).toBeCloseTo(150 / 255, 6);
  });

  test('missing root, missing split, no classes, empty class', async () => {
    const base = tempDir('imgfolder-errors');
    expect(
      (await failure(loadImageFolder(join(base, 'nope'), { split: 'train', channels: 3 }))).message,
    ).toBe(`${join(base, 'nope')}: ImageFolder root not found`);
    expect(
      (await failure(loadImageFolder(base, { split: 'test', channels: 3 }))).message,
    ).toContain(`${join(base, 'test')}: split folder 'test'`);
    mkdirSync(join(base, 'train'));
    expect(
      (await failure(loadImageFolder(base, { split: 'train', channels: 3 }))).message,
    ).toContain('no class folders');
    mkdirSync(join(base, 'train', 'empty'));
    expect((await failure(loadImageFolder(base, { split: 'train', channels: 3 }))).message).toBe(
      `${join(base, 'train', 'empty')}: class folder has no images`,
    );
  });

  test('undecodable file is named; files that are not .png/.jpg/.jpeg are skipped', async () => {
    const root = tree(tempDir('imgfolder-bad'), {
      'train/a/1.png': encodePng(solid(2, 2, 1), 2, 2),
      'train/a/notes.txt': new TextEncoder().encode('hello'),
    });
    expect((await loadImageFolder(root, { split: 'train', channels: 3 })).count).toBe(1);
    tree(root, { 'train/a/2.JPG': new TextEncoder().encode('hello') });
    const e = await failure(loadImageFolder(root, { split: 'train', channels: 3 }));
    expect(e.message).toContain(join(root, 'train/a/2.JPG'));
    expect(e.message).toContain('not a PNG or JPEG');
  });
});
