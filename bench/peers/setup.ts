// The peers of a bench run, started and checked: onnxruntime-node loaded (or the reason it did not), two PyTorch peer
// processes (OpenMP's default spin-waiting and OMP_WAIT_POLICY=PASSIVE, like onnxruntime's spinning on and off) given
// the run's inputs and every model's ONNX file, and the parity check that each peer computes hashguard's logits.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../../src/autodiff/index.ts';
import type { Sequential } from '../../src/nn/index.ts';
import { Tensor } from '../../src/tensor/index.ts';
import type { BenchContext, TorchVariant } from '../workloads.ts';
import type { Images } from './hashguard.ts';
import { loadOrt, ortLogits } from './ort.ts';
import { findTorchPython, startTorchPeer } from './torch.ts';

/** OpenMP wait policies the PyTorch peer runs under; the faster counts each round, both are recorded. */
const TORCH_VARIANTS: [string, Record<string, string>][] = [
  ['omp-default', {}],
  ['omp-passive', { OMP_WAIT_POLICY: 'PASSIVE' }],
];

/** Starts the peers; a peer that cannot run comes back as { reason } (logged), never as an exception. */
export async function startPeers(o: {
  data: Record<string, Images>;
  graphs: ReadonlyMap<string, Uint8Array>;
  /** A scratch folder for the files the PyTorch peer reads (inputs as raw float32, the ONNX graphs). */
  scratch: string;
  log: (line: string) => void;
}): Promise<{ ort: BenchContext['ort']; ortVersion: string | null; torch: BenchContext['torch'] }> {
  let ort: BenchContext['ort'],
    ortVersion: string | null = null;
  try {
    ortVersion = await loadOrt();
    ort = { spinning: [true, false] };
  } catch (e) {
    ort = { reason: `onnxruntime-node did not load: ${(e as Error).message}` };
    o.log(`onnxruntime-node figures skipped: ${ort.reason}`);
  }
  const found = findTorchPython();
  if ('reason' in found) {
    o.log(`PyTorch figures skipped: ${found.reason}`);
    return { ort, ortVersion, torch: { reason: found.reason } };
  }
  const file = (name: string) => join(o.scratch, name);
  for (const [name, d] of Object.entries(o.data)) {
    writeFileSync(file(`${name}.x.f32`), d.images);
    writeFileSync(file(`${name}.y.f32`), Float32Array.from(d.labels));
  }
  for (const [m, g] of o.graphs) writeFileSync(file(`${m}.onnx`), g);
  const variants: TorchVariant[] = [];
  for (const [name, env] of TORCH_VARIANTS) {
    const peer = await startTorchPeer(found.python, env);
    variants.push({ name, peer });
    for (const [set, d] of Object.entries(o.data))
      await peer.request({
        op: 'data',
        name: set,
        x: file(`${set}.x.f32`),
        y: file(`${set}.y.f32`),
        shape: [d.count, ...d.shape],
      });
    for (const m of o.graphs.keys())
      await peer.request({ op: 'load', name: m, onnx: file(`${m}.onnx`) });
  }
  return { ort, ortVersion, torch: { variants } };
}

/**
 * Max |peer logit − hashguard logit| over 4 inputs per model and peer; throws when one exceeds 1e-4 of the largest
 * logit (at least 1e-4): a peer that computes something else would make every ratio meaningless.
 */
export async function checkParity(o: {
  nets: ReadonlyMap<string, Sequential>;
  graphs: ReadonlyMap<string, Uint8Array>;
  dataOf: (model: string) => Images;
  ort: BenchContext['ort'];
  torch: BenchContext['torch'];
}): Promise<Record<string, Record<string, number>>> {
  const parity: Record<string, Record<string, number>> = {};
  for (const [m, graph] of o.graphs) {
    const d = o.dataOf(m),
      per = d.shape[0] * d.shape[1] * d.shape[2];
    const x = d.images.slice(0, 4 * per);
    const ours = noGrad(() => o.nets.get(m)!.forward(new Tensor([4, ...d.shape], x)))
      .data as Float32Array;
    const scale = Math.max(1, ...Array.from(ours, Math.abs));
    const diff = (theirs: ArrayLike<number>) =>
      Math.max(...Array.from(ours, (v, i) => Math.abs(v - theirs[i])));
    parity[m] = {};
    if (!('reason' in o.ort))
      parity[m].onnxruntime = diff(await ortLogits(graph, x, [4, ...d.shape]));
    if (!('reason' in o.torch)) {
      const r = await o.torch.variants[0].peer.request<{ logits: number[] }>({
        op: 'forward',
        model: m,
        x: Array.from(x),
        shape: [4, ...d.shape],
      });
      parity[m].torch = diff(r.logits);
    }
    for (const [peer, v] of Object.entries(parity[m]))
      if (!(v <= 1e-4 * scale))
        throw new Error(
          `${peer} computes different logits for ${m} (max |diff| ${v}): not the same model`,
        );
  }
  return parity;
}
