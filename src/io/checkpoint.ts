// Training checkpoints: parameters, optimizer state and loop state in ONE safetensors file, written
// atomically, with a sha256 of the tensor data in its metadata so a corrupt file is refused, not half-loaded.
import {
  decodeSafetensors,
  encodeSafetensors,
  ModelFileError,
  type EpochPosition,
} from '../nn/index.ts';
import { sha256Hex } from '../hash/index.ts';
import type { Tensor } from '../tensor/index.ts';
import { readFileOrThrow, writeFileAtomic } from './files.ts';

/** Everything a resumed run needs besides tensors; stored as JSON in the safetensors metadata. */
export interface CheckpointState {
  /** Number of completed epochs. */
  epochsDone: number;
  /** The run's configuration, compared on resume so a checkpoint is never continued with other settings. */
  config: Record<string, unknown>;
  history: EpochRecord[];
  /**
   * Set when the run was stopped inside epoch `epochsDone + 1` (a signal): the steps done there and their running
   * sums; the parameters and optimizer state are those after that step, and a resume continues with the next one.
   */
  partialEpoch?: EpochPosition;
  /** Adversarial training: the epoch whose weights are the last good ones (best robust validation accuracy). */
  best?: { epoch: number; robustAccuracy: number };
  /** Set when training stopped on catastrophic overfitting: the collapsed epoch and the epoch restored. */
  collapse?: {
    epoch: number;
    robustAccuracy: number;
    restoredEpoch: number;
    restoredRobustAccuracy: number;
  };
}

/** One finished epoch: training loss and accuracy (adversarial when training is), its time, and validation. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  seconds: number;
  /** Clean accuracy on the validation split. */
  validationAccuracy?: number;
  /** Accuracy under PGD at the final ε on the fixed validation batch (adversarial training only). */
  robustAccuracy?: number;
  /** The adversarial radius at the epoch's last step (differs from the final ε during a ramp). */
  eps?: number;
}

const PARAM = 'param/';
const OPT = 'opt/';
const BEST = 'best/';

/** Bytes after the header: the part whose hash the metadata records. */
function dataSection(bytes: Uint8Array): Uint8Array {
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return bytes.subarray(8 + headerLen);
}

// Metadata marking a checkpoint whose best parameters are its parameters (stored once).
const BEST_IS_PARAMS = 'hashguard.best_is_params';

/** Whether two parameter maps hold the same names and bytes. */
function sameParams(a: Map<string, Tensor>, b: Map<string, Tensor>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, t] of a) {
    const u = b.get(k);
    if (!u) return false;
    if (u === t) continue;
    const x = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      y = new Uint8Array(u.data.buffer, u.data.byteOffset, u.data.byteLength);
    if (x.length !== y.length || t.shape.join() !== u.shape.join()) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  }
  return true;
}

/**
 * `best`: the last good epoch's parameters (adversarial training keeps them to restore after a collapse). When
 * they are the current parameters (the latest epoch is the best, the usual case while a run improves) they are
 * stored once and marked, which keeps the file at the size of the parameters and optimizer state.
 */
export async function saveCheckpoint(
  path: string,
  params: Map<string, Tensor>,
  optState: Map<string, Tensor>,
  state: CheckpointState,
  best?: Map<string, Tensor>,
): Promise<void> {
  const bestIsParams = best !== undefined && sameParams(best, params);
  const entries: [string, Tensor][] = [
    ...[...params].map(([k, t]) => [PARAM + k, t] as [string, Tensor]),
    ...[...optState].map(([k, t]) => [OPT + k, t] as [string, Tensor]),
    ...[...(bestIsParams ? [] : (best ?? []))].map(([k, t]) => [BEST + k, t] as [string, Tensor]),
  ];
  // The data section does not depend on the header, so hash it from a first encoding, then write it with the hash.
  const dataHash = await sha256Hex(dataSection(encodeSafetensors(entries)));
  const bytes = encodeSafetensors(entries, {
    'hashguard.checkpoint': JSON.stringify(state),
    'hashguard.data_sha256': dataHash,
    ...(bestIsParams ? { [BEST_IS_PARAMS]: 'true' } : {}),
  });
  await writeFileAtomic(path, bytes);
}

export async function loadCheckpoint(path: string): Promise<{
  params: Map<string, Tensor>;
  optState: Map<string, Tensor>;
  best: Map<string, Tensor>;
  state: CheckpointState;
}> {
  const bytes = await readFileOrThrow(path, 'training checkpoint');
  const { tensors, metadata } = decodeSafetensors(bytes, path);
  const want = metadata['hashguard.data_sha256'];
  const got = await sha256Hex(dataSection(bytes));
  if (want !== got)
    throw new ModelFileError(
      path,
      'hashguard.data_sha256',
      `expected ${want ?? '(missing)'}, found ${got}: the checkpoint is corrupt`,
    );
  let state: CheckpointState;
  try {
    state = JSON.parse(metadata['hashguard.checkpoint'] ?? '');
  } catch {
    throw new ModelFileError(path, 'hashguard.checkpoint', 'missing or not valid JSON');
  }
  const params = new Map<string, Tensor>();
  const optState = new Map<string, Tensor>();
  const best = new Map<string, Tensor>();
  for (const [k, t] of tensors) {
    if (k.startsWith(PARAM)) params.set(k.slice(PARAM.length), t);
    else if (k.startsWith(OPT)) optState.set(k.slice(OPT.length), t);
    else if (k.startsWith(BEST)) best.set(k.slice(BEST.length), t);
  }
  if (metadata[BEST_IS_PARAMS] === 'true') {
    if (best.size)
      throw new ModelFileError(
        path,
        BEST_IS_PARAMS,
        'the best parameters are marked as the parameters but are stored too',
      );
    for (const [k, t] of params) best.set(k, t);
  }
  return { params, optState, best, state };
}
