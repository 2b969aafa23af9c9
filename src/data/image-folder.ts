// ImageFolder datasets: one split `root/<split>/<class>/<image>` (loadImageFolder), or a whole tree as train and
// test splits (loadImageTree: `root/<class>/<image>` split by seed, or `root/train|test/<class>/<image>`). PNG or
// JPEG, decoded to one NCHW float32 block per split; classes and files in code-unit order.
import type { Dataset, DatasetSplits } from './dataset.ts';
import { sha256Hex } from './checksum.ts';
import { DatasetError } from './dataset-error.ts';
import { readDataFile, readDataFiles } from './read-data-file.ts';
import { decodeImage, toChannels } from './image-decode.ts';
import {
  checkImageLimits,
  DEFAULT_IMAGE_LIMITS,
  imageChannels,
  readImageHeader,
  type ImageLimits,
} from './image-header.ts';
import { resizeCHW } from './resize.ts';
import { splitPerClass, type FolderSplitRecord } from './folder-split.ts';
import {
  byName,
  checkRoot,
  matchClasses,
  scanClasses,
  scanImageTree,
  type ClassFolder,
  type Skipped,
} from './image-folder-scan.ts';
import { basename, join, resolve } from 'node:path';

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

/** One image to load: its path, its path relative to the tree root ('/'-separated) and its label. */
interface FileEntry {
  path: string;
  rel: string;
  label: number;
}

/** How every image of a load is shaped: fixed by the options or by the first image. */
interface Shaping {
  channels: 1 | 3;
  /** [height, width] every image ends up at. */
  size?: [number, number];
  /** Resize to `size`; false = an image of another size is an error. */
  resize: boolean;
  /** Says where `size` came from in a size error, e.g. `like <first file>`. */
  sizeSource: string;
  /** Appended to a size error: how to fix it. */
  hint: string;
  limits: ImageLimits;
}

const entriesOf = (classes: ClassFolder[], labels: number[], prefix: string): FileEntry[] =>
  classes.flatMap((c, i) =>
    c.files.map((f) => ({
      path: join(c.dir, f),
      rel: `${prefix}${c.name}/${f}`,
      label: labels[i],
    })),
  );

/**
 * Reads, checks and decodes `files` into one Dataset (without sha256). Each file's size is read from its
 * header and checked against the limits and the shaping before it is decoded. Returns the per-file
 * sha256sum-style lines (`<hex>  <rel>\n`) in load order.
 */
async function decodeFiles(
  files: FileEntry[],
  shaping: Shaping,
  name: string,
  classes: string[],
): Promise<{ dataset: Omit<Dataset, 'sha256'>; lines: string[] }> {
  const { channels } = shaping;
  let size = shaping.size;
  let sizeSource = shaping.sizeSource;
  const per = () => channels * size![0] * size![1];
  let images = new Float32Array(0);
  const labels = new Uint8Array(files.length);
  const lines: string[] = [];
  for (let start = 0; start < files.length; start += READ_CHUNK) {
    const chunk = files.slice(start, start + READ_CHUNK);
    const bytes = await readDataFiles(chunk.map((f) => f.path));
    const hashes = await Promise.all(bytes.map((b) => sha256Hex(b)));
    for (let k = 0; k < chunk.length; k++) {
      const f = chunk[k],
        i = start + k;
      const header = readImageHeader(bytes[k], f.path);
      checkImageLimits(header, shaping.limits, f.path);
      if (!size) {
        size = [header.height, header.width];
        sizeSource = `like ${f.path}`;
      }
      const same = header.height === size[0] && header.width === size[1];
      if (!same && !shaping.resize)
        throw new DatasetError(
          f.path,
          `image is ${header.width}×${header.height} (w×h), expected ${size[1]}×${size[0]}` +
            `${sizeSource ? ` ${sizeSource}` : ''}; ${shaping.hint}`,
        );
      const img = decodeImage(bytes[k], f.path, shaping.limits);
      let chw = toChannels(img.rgba, img.width, img.height, channels);
      if (!same) chw = resizeCHW(chw, channels, img.height, img.width, size[0], size[1]);
      if (images.length === 0) images = new Float32Array(files.length * per());
      images.set(chw, i * per());
      labels[i] = f.label;
      lines.push(`${hashes[k]}  ${f.rel}\n`);
    }
  }
  const shape: [number, number, number] = size ? [channels, size[0], size[1]] : [channels, 1, 1];
  return { dataset: { name, images, labels, shape, classes, count: files.length }, lines };
}

/**
 * Loads one split of an ImageFolder tree into a Dataset (NCHW float32 in [0, 1]). Hidden files are ignored, so
 * are files not named .png/.jpg/.jpeg; the format is sniffed from the bytes, not the name. Errors (DatasetError)
 * name the folder or file: missing root or split, no class folders, an empty class, an undecodable image, an
 * image of the wrong size. `sha256` = sha256 of a sha256sum-style manifest (`<hex>  <class>/<file>\n` per image,
 * in load order).
 */
export async function loadImageFolder(root: string, options: ImageFolderOptions): Promise<Dataset> {
  const { split, channels, size, limit } = options;
  await checkRoot(root);
  const splitDir = join(root, split);
  const what = `split folder '${split}' (expected ${root}/${split}/<class>/<image>)`;
  const classes = await scanClasses(splitDir, what, { count: 0 }, limit);
  const { dataset, lines } = await decodeFiles(
    entriesOf(
      classes,
      classes.map((_, i) => i),
      '',
    ),
    {
      channels,
      size,
      resize: size !== undefined,
      sizeSource: '',
      hint: 'pass size to resize',
      limits: DEFAULT_IMAGE_LIMITS,
    },
    options.name ?? `${basename(root)}/${split}`,
    classes.map((c) => c.name),
  );
  return { ...dataset, sha256: await sha256Hex(lines.join('')) };
}

/** Options of loadImageTree. */
export interface ImageTreeOptions {
  /** 1 = BT.601 grayscale, 3 = RGB; default: what the tree's first image stores (imageChannels). */
  channels?: 1 | 3;
  /** [height, width] of every image; default: the first image's size. */
  size?: [number, number];
  /** With `size`: resize to it (default), or false to require it (an image of another size is an error). */
  resize?: boolean;
  /** Where `size` comes from, said in a size error, e.g. "(the model's input)". */
  sizeSource?: string;
  /** How to fix a size error, appended to its message (default: 'give a size to resize'). */
  sizeHint?: string;
  /** The label order, e.g. a model's classes: the class folders must be exactly these names. */
  classes?: readonly string[];
  /** Whose classes `classes` are, for the mismatch error (default 'the expected'). */
  classesOf?: string;
  /** One-tree layout: share of each class held out as test, in (0, 1] (default 0.1), and the split seed (default 0). */
  fraction?: number;
  seed?: number;
  /** At most this many images per class (the first by name, before splitting). */
  limit?: number;
  /** Most images in the tree (default DEFAULT_MAX_IMAGES). */
  maxImages?: number;
  /** Per-image size limits, checked from each header before decoding (default DEFAULT_IMAGE_LIMITS). */
  imageLimits?: ImageLimits;
}

/** Where a tree's datasets came from, for a model's provenance. */
export interface ImageTreeRecord {
  /** The root folder's name. */
  name: string;
  layout: 'classes' | 'splits';
  /** sha256 of `<hex>  <rel path>\n` over every loaded image, sorted by relative path (code-unit order). */
  sha256: string;
  images: { train: number; test: number };
  /** The seeded split ('classes' layout only). */
  split?: FolderSplitRecord;
}

/** What loadImageTree returns. */
export interface ImageTree {
  splits: DatasetSplits;
  record: ImageTreeRecord;
  /** Non-image files and nested folders passed over. */
  skipped: Skipped;
  /** The image that decided the channels and/or size, when an option did not; else undefined. */
  firstImage?: string;
}

/**
 * Loads a whole ImageFolder tree as train and test splits. 'splits' layout (root/train and root/test): used as
 * given, test's classes must be train's. 'classes' layout (root/<class>/<image>): each class is split by
 * splitPerClass(fraction, seed); a fraction of 1 makes every image test (the train split is empty). Both splits'
 * `sha256` is the record's tree hash. Errors are DatasetErrors naming the folder or file.
 */
export async function loadImageTree(
  root: string,
  options: ImageTreeOptions = {},
): Promise<ImageTree> {
  const fraction = options.fraction ?? 0.1,
    seed = options.seed ?? 0;
  const scan = await scanImageTree(root, { limit: options.limit, maxImages: options.maxImages });
  const names = scan.train.map((c) => c.name);
  const order = options.classes ? [...options.classes] : names;
  if (options.classes) matchClasses(root, names, order, options.classesOf ?? 'the expected');
  // Rows grouped by label (validationSplit then holds out the last rows of each class).
  const byLabel = (cs: ClassFolder[]) =>
    [...cs].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  const labelsOf = (cs: ClassFolder[]) => cs.map((c) => order.indexOf(c.name));
  let trainFiles: FileEntry[], testFiles: FileEntry[];
  let split: FolderSplitRecord | undefined;
  if (scan.layout === 'splits') {
    const tr = byLabel(scan.train),
      te = byLabel(scan.test!);
    trainFiles = entriesOf(tr, labelsOf(tr), 'train/');
    testFiles = entriesOf(te, labelsOf(te), 'test/');
  } else {
    const held = splitPerClass(
      scan.train.map((c) => c.files),
      fraction,
      seed,
    );
    const part = (keep: boolean) =>
      byLabel(
        scan.train.map((c, i) => ({ ...c, files: c.files.filter((_, j) => held[i][j] === keep) })),
      );
    const tr = part(false),
      te = part(true);
    trainFiles = entriesOf(tr, labelsOf(tr), '');
    testFiles = entriesOf(te, labelsOf(te), '');
    split = { seed, fraction, rule: 'per-class-hash-rank' };
  }

  // The tree's first image (first class in label order, first file by name) decides what options leave open.
  const first = byLabel(scan.train)[0];
  const firstPath = join(first.dir, first.files[0]);
  let channels = options.channels;
  let size = options.size;
  if (channels === undefined || size === undefined) {
    const bytes = await readDataFile(firstPath);
    channels ??= imageChannels(bytes, firstPath);
    if (!size) {
      const h = readImageHeader(bytes, firstPath);
      size = [h.height, h.width];
    }
  }
  const shaping: Shaping = {
    channels,
    size,
    resize: options.size !== undefined && options.resize !== false,
    sizeSource: options.size ? (options.sizeSource ?? '') : `like ${firstPath}`,
    hint: options.sizeHint ?? 'give a size to resize',
    limits: options.imageLimits ?? DEFAULT_IMAGE_LIMITS,
  };
  const name = basename(resolve(root)); // `photos/` and `.` name the folder itself
  const train = await decodeFiles(trainFiles, shaping, `${name}/train`, order);
  const test = await decodeFiles(testFiles, shaping, `${name}/test`, order);
  // The tree hash covers every loaded image, sorted by relative path: independent of the split and of label order.
  const lines = [...train.lines, ...test.lines].sort((a, b) => byName(a.slice(66), b.slice(66)));
  const sha256 = await sha256Hex(lines.join(''));
  return {
    splits: { train: { ...train.dataset, sha256 }, test: { ...test.dataset, sha256 } },
    record: {
      name,
      layout: scan.layout,
      sha256,
      images: { train: train.dataset.count, test: test.dataset.count },
      ...(split ? { split } : {}),
    },
    skipped: scan.skipped,
    ...(options.channels === undefined || options.size === undefined
      ? { firstImage: firstPath }
      : {}),
  };
}
