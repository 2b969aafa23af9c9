// ImageFolder datasets: `root/<split>/<class>/<image>` with PNG or JPEG files. Classes are the sorted
// subfolder names and files are sorted by name, so the same tree always gives the same Dataset.
import type { Dataset } from './dataset.ts';
import { sha256Hex } from './checksum.ts';
import { DatasetError } from './dataset-error.ts';
import { readDataFiles } from './read-data-file.ts';
import { decodeImage, toChannels } from './image-decode.ts';
import { resizeCHW } from './resize.ts';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** Options of loadImageFolder. */
export interface ImageFolderOptions {
  split: 'train' | 'test';
  /** 1 = BT.601 grayscale, 3 = RGB. */
  channels: 1 | 3;
  /** Resize every image to [height, width]; without it all images must share the first image's size. */
  size?: [number, number];
  /** At most this many images per class: the first ones by file name. */
  limit?: number;
  /** Dataset name (default `<root basename>/<split>`). */
  name?: string;
}

/** Files are read this many at a time: enough to overlap IO with decoding, few enough to bound memory. */
const READ_CHUNK = 64;

// Code-unit order, not localeCompare: class indices must not depend on the machine's locale.
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

async function listDir(dir: string, what: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') throw new DatasetError(dir, `${what} not found`, { cause: err });
    if (code === 'ENOTDIR')
      throw new DatasetError(dir, `${what} is not a directory`, { cause: err });
    throw new DatasetError(dir, `cannot list ${what}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Loads one split of an ImageFolder tree into a Dataset (NCHW float32 in [0, 1]). Hidden files are ignored;
 * any other file must decode as PNG or JPEG. Errors (DatasetError) name the folder or file: missing root or
 * split, no class folders, an empty class, an undecodable image, an image of the wrong size.
 * `sha256` = sha256 of a sha256sum-style manifest (`<hex>  <class>/<file>\n` per image, in load order).
 */
export async function loadImageFolder(root: string, options: ImageFolderOptions): Promise<Dataset> {
  const { split, channels, size, limit } = options;
  try {
    if (!(await stat(root)).isDirectory())
      throw new DatasetError(root, 'ImageFolder root is not a directory');
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError(root, 'ImageFolder root not found', { cause: err });
  }
  const splitDir = join(root, split);
  const classes = (
    await listDir(splitDir, `split folder '${split}' (expected ${root}/${split}/<class>/<image>)`)
  )
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(byName);
  if (classes.length === 0)
    throw new DatasetError(splitDir, 'no class folders (expected <class>/<image> subfolders)');
  if (classes.length > 256)
    throw new DatasetError(
      splitDir,
      `${classes.length} class folders: labels are bytes, at most 256`,
    );

  const files: { path: string; rel: string; label: number }[] = [];
  for (let label = 0; label < classes.length; label++) {
    const classDir = join(splitDir, classes[label]);
    let names = (await listDir(classDir, 'class folder'))
      .filter((e) => (e.isFile() || e.isSymbolicLink()) && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort(byName);
    if (limit !== undefined) names = names.slice(0, limit);
    if (names.length === 0) throw new DatasetError(classDir, 'class folder has no images');
    for (const n of names)
      files.push({ path: join(classDir, n), rel: `${classes[label]}/${n}`, label });
  }

  let shape: [number, number, number] | undefined = size ? [channels, size[0], size[1]] : undefined;
  let images = new Float32Array(0);
  let firstFile = '';
  const labels = new Uint8Array(files.length);
  let manifest = '';
  for (let start = 0; start < files.length; start += READ_CHUNK) {
    const chunk = files.slice(start, start + READ_CHUNK);
    const bytes = await readDataFiles(chunk.map((f) => f.path));
    const hashes = await Promise.all(bytes.map((b) => sha256Hex(b)));
    for (let k = 0; k < chunk.length; k++) {
      const f = chunk[k],
        i = start + k;
      const img = decodeImage(bytes[k], f.path);
      let chw = toChannels(img.rgba, img.width, img.height, channels);
      if (!shape) {
        shape = [channels, img.height, img.width];
        firstFile = f.path;
      }
      if (img.height !== shape[1] || img.width !== shape[2]) {
        if (!size) {
          throw new DatasetError(
            f.path,
            `image is ${img.width}×${img.height} (w×h), expected ${shape[2]}×${shape[1]} ` +
              `like ${firstFile}; pass size to resize`,
          );
        }
        chw = resizeCHW(chw, channels, img.height, img.width, shape[1], shape[2]);
      }
      const per = shape[0] * shape[1] * shape[2];
      if (images.length === 0) images = new Float32Array(files.length * per);
      images.set(chw, i * per);
      labels[i] = f.label;
      manifest += `${hashes[k]}  ${f.rel}\n`;
    }
  }
  return {
    name: options.name ?? `${basename(root)}/${split}`,
    images,
    labels,
    shape: shape!,
    classes,
    count: files.length,
    sha256: await sha256Hex(manifest),
  };
}
