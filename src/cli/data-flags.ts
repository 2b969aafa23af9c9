// Where a command's images come from: --dataset NAME or --data DIR (an ImageFolder tree of your own images) and
// the flags that shape a tree (--channels, --size, --val-split, --background). train reads them into a new
// model's provenance; eval, convert, harden, certify and audit take the model's input shape, classes and split.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DATASET_NAMES, type DatasetName, type DatasetSplits } from '../data/index.ts';
import { loadDataset, loadImageTree, type ImageTree } from '../data/node.ts';
import type { InputBackground, ModelManifest } from '../nn/index.ts';
import { flags, choice, number, UsageError } from './args.ts';

/** The --data flags every data-reading command takes. */
export const dataOptions = flags('data channels size val-split');

const INPUT_BACKGROUNDS: readonly InputBackground[] = ['dark', 'light', 'any'];

/** train's usage lines for the data flags. */
export const trainDataUsage = `  --dataset NAME | --data DIR   (exactly one; --data: your own images, DIR/<class>/<image> split per class by --seed,
    or DIR/train/<class>/<image> + DIR/test/<class>/<image> as given; PNG or JPEG, other files skipped; docs/data.md)
  [--channels 1|3] [--size HxW] [--val-split 0.1] [--background dark|light|any]   (with --data: channels and size
    default to the first image's, mixed sizes need --size; --val-split: share of each class held out as test;
    --background: recorded in model.json, default any)`;

/** The usage lines of a command that reads a model's data; `otherwise` = its split of a tree the model never saw. */
export const modelDataUsage = (otherwise: string) =>
  `  [--data DIR]   (your own images instead of the model's dataset: DIR/<class>/<image> or DIR/train|test/<class>/<image>,
    PNG or JPEG; class folders must be the model's classes, images its input size; docs/data.md)
  [--channels 1|3] [--size HxW (resize to the model's input size)] [--val-split F (share of each class held out
    as test; default: the split the model was trained with, else ${otherwise})]`;

/** model.json's provenance.dataset for a tree: its name, layout, hash, image counts, split and resize. */
export interface FolderProvenance {
  name: string;
  kind: 'image-folder';
  sha256: string;
  layout: ImageTree['record']['layout'];
  images: { train: number; test: number };
  split?: { seed: number; fraction: number; rule: string };
  /** [height, width] every image was resized to (--size). */
  size?: [number, number];
  [extra: string]: unknown;
}

/** Parses --size: `HxW` (e.g. 28x28) or one number for a square. */
export function sizeFlag(v: Record<string, unknown>): [number, number] | undefined {
  const raw = v.size;
  if (raw === undefined) return undefined;
  const m = typeof raw === 'string' ? /^\s*(\d+)\s*(?:[x×]\s*(\d+))?\s*$/i.exec(raw) : null;
  const h = m ? Number(m[1]) : NaN,
    w = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(h >= 1 && w >= 1 && h <= 8192 && w <= 8192))
    throw new UsageError(`--size: expected HxW, e.g. 28x28 (sides 1..8192), got '${String(raw)}'`);
  return [h, w];
}

const channelsFlag = (v: Record<string, unknown>): 1 | 3 | undefined =>
  v.channels === undefined ? undefined : (Number(choice(v, 'channels', ['1', '3'], '3')) as 1 | 3);

function fractionFlag(v: Record<string, unknown>, allowAll: boolean): number | undefined {
  if (v['val-split'] === undefined) return undefined;
  const f = number(v, 'val-split', 0.1, { min: 0, max: 1 });
  if (f === 0 || (f === 1 && !allowAll))
    throw new UsageError(
      `--val-split: expected a share in (0, ${allowAll ? '1]' : '1)'}, got '${String(v['val-split'])}'`,
    );
  return f;
}

/** Refuses the tree-shaping flags without --data. */
function requireData(v: Record<string, unknown>, flags: string[]): void {
  const stray = flags.find((f) => v[f] !== undefined);
  if (stray !== undefined && v.data === undefined)
    throw new UsageError(`--${stray} shapes the images of --data DIR: give --data`);
}

/** --val-split has no say over a tree that brings its own train/ and test/. */
function checkLayout(dir: string, v: Record<string, unknown>): void {
  if (!existsSync(dir)) return; // the loader names the missing folder
  if (!statSync(dir).isDirectory()) return;
  const splits = ['train', 'test'].every((s) => existsSync(join(dir, s)));
  if (splits && v['val-split'] !== undefined)
    throw new UsageError(`--val-split: ${dir} has its own train/ and test/ folders, used as given`);
}

/** One line per thing a user should know about how the tree was read. */
function treeNotes(dir: string, tree: ImageTree, decided: string): string[] {
  const { record, skipped } = tree;
  const { train, test } = tree.splits;
  const how =
    record.layout === 'splits'
      ? 'train/ and test/ as given'
      : record.split!.fraction === 1
        ? 'every image as test'
        : `${Math.round(record.split!.fraction * 1000) / 10}% of each class held out as test, seed ${record.split!.seed}`;
  const lines = [
    `data: ${dir}: ${train.classes.length} classes, ${train.count} train and ${test.count} test images ` +
      `(${how}), ${test.shape.join('×')} each, sha256 ${record.sha256.slice(0, 12)}…`,
  ];
  if (skipped.count)
    lines.push(
      `note: skipped ${skipped.count} entries that are not .png/.jpg/.jpeg files (first: ${skipped.first})`,
    );
  if (decided) lines.push(`note: ${decided} from the first image, ${tree.firstImage}`);
  return lines;
}

function provenanceOf(tree: ImageTree, size?: [number, number]): FolderProvenance {
  const { record } = tree;
  return {
    name: record.name,
    kind: 'image-folder',
    sha256: record.sha256,
    layout: record.layout,
    images: record.images,
    ...(record.split ? { split: record.split } : {}),
    ...(size ? { size } : {}),
  };
}

/** train's data source, from the flags, checked before any work. */
export type TrainingDataFlags =
  | { kind: 'named'; name: DatasetName }
  | {
      kind: 'folder';
      dir: string;
      channels?: 1 | 3;
      size?: [number, number];
      fraction: number;
      background: InputBackground;
    };

/** Reads --dataset or --data (exactly one) and the tree flags that go with --data. */
export function trainingDataFlags(v: Record<string, unknown>): TrainingDataFlags {
  requireData(v, ['channels', 'size', 'val-split', 'background']);
  if (v.data !== undefined && v.dataset !== undefined)
    throw new UsageError('give --dataset NAME or --data DIR, not both');
  if (v.data === undefined) {
    if (v.dataset === undefined)
      throw new UsageError(
        `give the training data: --dataset NAME (${DATASET_NAMES.join(', ')}) or --data DIR (your own images)`,
      );
    return { kind: 'named', name: choice<DatasetName>(v, 'dataset', DATASET_NAMES, 'mnist') };
  }
  const dir = v.data as string;
  if (dir === '') throw new UsageError('--data: give the folder of images');
  checkLayout(dir, v);
  return {
    kind: 'folder',
    dir,
    channels: channelsFlag(v),
    size: sizeFlag(v),
    fraction: fractionFlag(v, false) ?? 0.1,
    background: choice(v, 'background', INPUT_BACKGROUNDS, 'any'),
  };
}

/** train's data: the named dataset, or the tree split by `seed`; `name` goes into the checkpoint's config. */
export async function trainingData(
  flags: TrainingDataFlags,
  seed: number,
  log: (line: string) => void,
): Promise<{ data: DatasetSplits; name: string; folder?: FolderProvenance }> {
  if (flags.kind === 'named')
    return { data: await loadDataset(flags.name, { seed }), name: flags.name };
  const { dir, channels, size, fraction, background } = flags;
  const tree = await loadImageTree(dir, {
    channels,
    size,
    fraction,
    seed,
    sizeHint: 'pass --size HxW to resize every image to one size',
  });
  const decided = [
    channels === undefined ? `channels ${tree.splits.train.shape[0]} (--channels)` : '',
    size === undefined ? `size ${tree.splits.train.shape.slice(1).join('x')} (--size)` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  for (const line of treeNotes(dir, tree, decided)) log(line);
  const withBackground = (d: DatasetSplits['train']) => ({ ...d, background });
  return {
    data: { train: withBackground(tree.splits.train), test: withBackground(tree.splits.test) },
    name: `image-folder:${tree.record.name}`,
    folder: provenanceOf(tree, size),
  };
}

/** What a model's provenance.dataset says about a tree it was trained on, if it was. */
const folderOf = (m: ModelManifest): FolderProvenance | undefined =>
  m.provenance.dataset.kind === 'image-folder'
    ? (m.provenance.dataset as FolderProvenance)
    : undefined;

/**
 * The data a command scores `model` on: its named dataset, or --data DIR read to its input shape and classes.
 * A one-tree DIR is split as the model records (when it was trained on a tree), else by `seed` with --val-split,
 * defaulting to `allByDefault` ? every image as test : 10% held out. `folder` is the tree's provenance.
 */
export async function modelData(
  v: Record<string, unknown>,
  model: { dir: string; manifest: ModelManifest },
  { seed, allByDefault, log }: { seed: number; allByDefault: boolean; log: (line: string) => void },
): Promise<{ data: DatasetSplits; folder?: FolderProvenance }> {
  requireData(v, ['channels', 'size', 'val-split']);
  const { manifest, dir } = model;
  const trained = folderOf(manifest);
  if (v.data === undefined) {
    if (trained)
      throw new UsageError(
        `${dir} was trained on the image folder '${trained.name}' (sha256 ${trained.sha256.slice(0, 12)}…): give it as --data DIR`,
      );
    const name = manifest.provenance.dataset.name;
    // An imported model, say, records a dataset this project cannot load by name. One imported without
    // --dataset records 'unknown': naming its dataset at import is the short way out, so say so.
    if (!(DATASET_NAMES as readonly string[]).includes(name))
      throw new UsageError(
        `${dir} records dataset '${name}', not one of ${DATASET_NAMES.join(', ')}: give its images as --data DIR` +
          (manifest.provenance.onnx !== undefined && name === 'unknown'
            ? ', or import it again with --dataset NAME if it was trained on one of them'
            : ''),
      );
    return {
      data: await loadDataset(name as DatasetName, { seed: manifest.provenance.seed }),
    };
  }
  const data = v.data as string;
  const [c, h, w] = manifest.input.shape;
  if (c !== 1 && c !== 3)
    throw new UsageError(`--data: ${dir} takes ${c}-channel inputs; image folders give 1 or 3`);
  const channels = channelsFlag(v);
  if (channels !== undefined && channels !== c)
    throw new UsageError(`--channels ${channels}: ${dir} takes ${c}-channel images`);
  const size = sizeFlag(v);
  if (size && (size[0] !== h || size[1] !== w))
    throw new UsageError(`--size ${size.join('x')}: ${dir} takes ${h}x${w} images (HxW)`);
  checkLayout(data, v);
  const recorded = trained?.split;
  const fraction = fractionFlag(v, true) ?? recorded?.fraction ?? (allByDefault ? 1 : 0.1);
  const tree = await loadImageTree(data, {
    channels: c as 1 | 3,
    size: [h, w],
    // Resize when asked, or when the model was trained resizing its tree (it records the size).
    resize: size !== undefined || trained?.size !== undefined,
    sizeSource: `(the input size of ${dir})`,
    sizeHint: `pass --size ${h}x${w} to resize to it`,
    classes: manifest.classes,
    classesOf: `${dir}'s`,
    fraction,
    seed: recorded?.seed ?? seed,
  });
  for (const line of treeNotes(data, tree, '')) log(line);
  if (trained && trained.sha256 !== tree.record.sha256)
    log(
      `note: ${data} is not the tree ${dir} was trained on (sha256 ${trained.sha256.slice(0, 12)}… recorded): ` +
        'its test split may hold images the model was trained on',
    );
  if (tree.splits.test.count === 0) throw new UsageError(`--data ${data}: no test images`);
  const background = manifest.input.background;
  const withBackground = (d: DatasetSplits['train']) => (background ? { ...d, background } : d);
  return {
    data: { train: withBackground(tree.splits.train), test: withBackground(tree.splits.test) },
    folder: provenanceOf(tree, size ?? trained?.size),
  };
}
