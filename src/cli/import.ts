// `hashguard import`: read an ONNX classifier (size-limited, external data confined to its folder), map it onto
// hashguard's layers (src/onnx), optionally measure it on a dataset, and write a normal model directory whose
// provenance names the source file, its sha256, producer, opset and what the import folded or dropped.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { loadDataset } from '../data/node.ts';
import { DATASET_NAMES, type DatasetName, inputConvention } from '../data/index.ts';
import { sha256Hex } from '../hash/index.ts';
import { saveModelDir } from '../io/index.ts';
import { accuracy, identityOrder, Sequential, type InputBackground } from '../nn/index.ts';
import { importOnnx, OnnxError } from '../onnx/index.ts';
import { flags, choice, parseWithPositionals, requireString, UsageError } from './args.ts';
import { machineInfo } from './machine.ts';
import { guardModelDir } from './output-guard.ts';
import {
  progressFromFlags,
  progressOptions,
  progressUsage,
  type ProgressSink,
} from './progress.ts';
import { listenForStop, nextTurn, Stopped, STOPPED_EXIT_CODE, type StopListener } from './stop.ts';
import { setExitCode } from '../runtime/index.ts';

/** Largest ONNX file (and external data file) read: checked with stat before a byte is read. */
export const MAX_ONNX_BYTES = 512 * 2 ** 20;

export const importUsage = `usage: bun run import -- MODEL.onnx --out models/NAME [--name NAME] [--force]
  [--input-shape C,H,W]   (required when the graph's input is [N, D]; checked against an [N, C, H, W] input)
  [--normalize MEAN,STD | --normalize M1,…,MC,S1,…,SC]   (input normalization the model expects outside its graph)
  [--classes a,b,c | --classes-file FILE]   (class names, one per line in FILE; default: the dataset's, else 0…K-1)
  [--dataset ${DATASET_NAMES.join('|')}]   (measure test accuracy on its test split; eval needs it)
  [--background dark|light|any]   (default: the dataset's, else any)
  Files up to ${MAX_ONNX_BYTES / 2 ** 20} MB; external data must sit beside the model (relative paths, no '..').
${progressUsage}
  Ctrl-C or SIGTERM before the model is written stops with nothing written (exit 130); once the writing has begun
  it finishes (the model directory is whole), then exits 130.`;

export async function importCommand(argv: string[]): Promise<void> {
  const { values: v, positionals } = parseWithPositionals(argv, {
    ...flags('out name input-shape normalize classes classes-file dataset background', 'force'),
    ...progressOptions,
  });
  if (positionals.length !== 1)
    throw new UsageError(
      `expected one ONNX file, got ${positionals.length ? positionals.join(' ') : 'none'}`,
    );
  const file = positionals[0];
  const out = requireString(v, 'out');
  const inputShape =
    v['input-shape'] === undefined ? undefined : shapeFlag(v['input-shape'] as string);
  const normalize = v.normalize === undefined ? undefined : normalizeFlag(v.normalize as string);
  if (v.classes !== undefined && v['classes-file'] !== undefined)
    throw new UsageError('give --classes or --classes-file, not both');
  const dataset =
    v.dataset === undefined ? null : choice<DatasetName>(v, 'dataset', DATASET_NAMES, 'mnist');
  guardModelDir(out, Boolean(v.force));
  const sink = progressFromFlags(v);
  const stop = listenForStop(sink, 'before anything is written');
  try {
    await importModel(argv, v, file, out, inputShape, normalize, dataset, sink, stop);
  } catch (e) {
    if (e instanceof Stopped)
      sink.log(
        `interrupted by ${e.signal} before the model was written: nothing written at ${out}`,
      );
    throw e;
  } finally {
    stop.dispose();
  }
  if (stop.signal) {
    sink.log(`${stop.signal} came while ${out} was being written: it was finished whole`);
    setExitCode(STOPPED_EXIT_CODE);
  }
}

/** The import itself: `stop` is checked between the steps and the test images' chunks, never during the write. */
async function importModel(
  argv: string[],
  v: Record<string, unknown>,
  file: string,
  out: string,
  inputShape: [number, number, number] | undefined,
  normalize: { mean: number[]; std: number[] } | undefined,
  dataset: DatasetName | null,
  sink: ProgressSink,
  stop: StopListener,
): Promise<void> {
  const bytes = readLimited(file, 'ONNX model');
  const imported = importOnnx(bytes, { inputShape, normalize, externalData: externalReader(file) });
  const k = imported.classes;
  const data = dataset ? await loadDataset(dataset, { seed: 0 }) : null;
  if (data && data.test.shape.join(',') !== imported.inputShape.join(','))
    throw new UsageError(
      `--dataset ${dataset}: images are [${data.test.shape}], the model takes [${imported.inputShape}]`,
    );
  const classes = classNames(v, k, data?.test.classes);
  const model = new Sequential(imported.inputShape, imported.layers, imported.params);
  // Measured 1024 images at a time (whole batches of 256: the same predictions as one pass), so the bar moves
  // and a signal is seen in between.
  const count = data?.test.count ?? 0;
  const task = data
    ? sink.task('import', count, 'images', { fields: { dataset } })
    : sink.task('import', 1, 'models');
  const check = () => {
    if (stop.signal) task.interrupt({ signal: stop.signal });
    stop.check();
  };
  let correct = 0;
  const order = identityOrder(count);
  for (let a = 0; a < count; a += 1024) {
    check();
    correct += accuracy(model, data!.test, order.subarray(a, Math.min(count, a + 1024))).correct;
    task.update(Math.min(count, a + 1024), { detail: `${correct} correct` });
    await nextTurn();
  }
  const score = data ? { accuracy: count ? correct / count : 0, count } : null;
  check();
  // From here the model directory is written whole: a signal now waits for it.
  const background =
    v.background === undefined
      ? data
        ? inputConvention(data.test).background
        : 'any'
      : choice<InputBackground>(v, 'background', ['dark', 'light', 'any'], 'any');
  const manifest = await saveModelDir(
    out,
    {
      format: 1,
      name: (v.name as string | undefined) ?? basename(out),
      input: { shape: imported.inputShape, range: [0, 1], background },
      classes,
      layers: imported.layers,
      defense: null,
      provenance: {
        // Without --dataset the model's data is unknown: eval then says which datasets it can use.
        dataset: data
          ? { name: dataset!, sha256: data.train.sha256, testCount: data.test.count }
          : { name: 'unknown', sha256: '' },
        seed: 0,
        epochs: 0,
        command: `bun run import -- ${argv.join(' ')}`,
        onnx: {
          file: basename(file),
          sha256: await sha256Hex(bytes),
          bytes: bytes.length,
          producer: imported.producer,
          opset: imported.opset,
          output: imported.output,
          ...(inputShape ? { inputShape } : {}),
          ...(normalize ? { normalize } : {}),
          notes: imported.notes,
        },
        machine: machineInfo(),
      },
      metrics: score
        ? { testAccuracy: score.accuracy, testCount: score.count }
        : { testAccuracy: 0, testCount: 0, measured: false },
    },
    imported.params,
  );
  task.update(data ? count : 1);
  task.finish({ out, ...(score ? { testAccuracy: score.accuracy } : {}) });
  sink.log(
    `saved ${out}: ${imported.layers.length} layers from ${basename(file)} (${imported.producer || 'unknown producer'}, opset ${imported.opset}, ${imported.notes.length} notes)` +
      (score
        ? `, test accuracy ${(100 * score.accuracy).toFixed(2)}% on ${score.count} ${dataset} images`
        : ', not measured (no --dataset)') +
      `, weights sha256 ${manifest.weights.sha256.slice(0, 12)}…`,
  );
}

/** Reads a file after checking its size, so a huge file is refused before it is read. */
function readLimited(path: string, what: string): Uint8Array {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new Error(`${path}: file not found (${what})`);
  }
  if (size > MAX_ONNX_BYTES)
    throw new OnnxError(
      `${path}: ${size} bytes is over the ${MAX_ONNX_BYTES / 2 ** 20} MB limit (${what})`,
    );
  const buf = readFileSync(path);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** External data reader confined to the model's folder: relative paths only, no '..', no symlink escape. */
function externalReader(modelFile: string): (location: string) => Uint8Array {
  const dir = realpathSync(dirname(resolve(modelFile)));
  return (location) => {
    if (isAbsolute(location) || location.split(/[\\/]/).includes('..'))
      throw new OnnxError(
        `external data '${location}': must be a relative path inside the model's folder`,
      );
    let real: string;
    try {
      real = realpathSync(join(dir, location));
    } catch {
      throw new OnnxError(
        `external data '${location}': file not found beside ${basename(modelFile)}`,
      );
    }
    const rel = relative(dir, real);
    if (rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..'))
      throw new OnnxError(`external data '${location}': resolves outside the model's folder`);
    return readLimited(real, `external data of ${basename(modelFile)}`);
  };
}

function shapeFlag(raw: string): [number, number, number] {
  const dims = raw.split(',').map((s) => Number(s.trim()));
  if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d < 1))
    throw new UsageError(
      `--input-shape: expected C,H,W positive integers, e.g. 1,28,28, got '${raw}'`,
    );
  return dims as [number, number, number];
}

/** MEAN,STD (one value each) or M1,…,MC,S1,…,SC (per channel). */
function normalizeFlag(raw: string): { mean: number[]; std: number[] } {
  const nums = raw.split(',').map((s) => Number(s.trim()));
  if (nums.length < 2 || nums.length % 2 !== 0 || nums.some((x) => !Number.isFinite(x)))
    throw new UsageError(
      `--normalize: expected MEAN,STD or C means then C stds (e.g. 0.1307,0.3081), got '${raw}'`,
    );
  if (nums.slice(nums.length / 2).some((s) => s <= 0))
    throw new UsageError(`--normalize: std must be positive, got '${raw}'`);
  return { mean: nums.slice(0, nums.length / 2), std: nums.slice(nums.length / 2) };
}

/** --classes / --classes-file, else the dataset's names when their count fits, else '0'…'K-1'. */
function classNames(v: Record<string, unknown>, k: number, fromData?: string[]): string[] {
  let names: string[] | null = null;
  if (typeof v.classes === 'string') names = v.classes.split(',').map((s) => s.trim());
  else if (typeof v['classes-file'] === 'string')
    names = new TextDecoder()
      .decode(readLimited(v['classes-file'], 'class names'))
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter((s) => s !== '');
  if (names) {
    if (names.length !== k)
      throw new UsageError(`${names.length} class names given, the model has ${k} outputs`);
    return names;
  }
  return fromData && fromData.length === k
    ? fromData
    : Array.from({ length: k }, (_, i) => String(i));
}
