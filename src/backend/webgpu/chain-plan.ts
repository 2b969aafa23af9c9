// Lowers a network's layers (ChainLayer, i.e. nn's LayerSpec) to the WGSL kernels of a GPU chain: one op per
// layer with its kernel ids, activation slots and params uniform. Pure: buffers and dispatch are gpu-chain.ts's.
import { LAYER_KERNEL, type ChainLayer, type LayerKernel } from '../../tensor/index.ts';
import { type KernelParams, windowOutSize } from './kernel-specs.ts';

/** Forward kernel id of an op (tensor/chain.ts LAYER_KERNEL); backward kernels add -grad-input / -grad-weight. */
export type OpKernel = Exclude<LayerKernel, 'avg-pool2d'>;

export interface PlanOp {
  /** Index of the layer in the network. */
  layer: number;
  /** Forward kernel, or null for flatten (a reshape: its output slot is its input slot). */
  kernel: OpKernel | null;
  /** Activation slots read and written (slot 0 is the input, the last op's dst holds the logits). */
  src: number;
  dst: number;
  /** Params uniform of the forward kernel and of its backward kernels (they share the struct), for a batch. */
  params: (batch: number) => KernelParams;
  /** Weighted ops: parameter names, element counts of the stored tensors, and the hashed layers' index table. */
  weight?: { name: string; size: number };
  bias?: { name: string; size: number };
  hash?: { rows: number; cols: number; buckets: number; seed: number };
}

export interface ChainPlan {
  /** Per-example input shape. */
  inputShape: number[];
  ops: PlanOp[];
  /** Floats per example of each activation slot. */
  slotFloats: number[];
  /** Number of classes (floats per example of the last slot). */
  outputs: number;
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * The plan for `layers` on per-example input `inputShape`, or null where a layer has no GPU kernel here
 * (avgpool2d) or the shapes do not chain (the model has already rejected those with a message).
 */
export function planChain(
  layers: readonly ChainLayer[],
  inputShape: readonly number[],
): ChainPlan | null {
  let shape = [...inputShape];
  const slotFloats = [prod(shape)];
  const ops: PlanOp[] = [];
  let slot = 0;
  const next = (out: number[]) => {
    shape = out;
    slotFloats.push(prod(out));
    return ++slot;
  };
  for (let layer = 0; layer < layers.length; layer++) {
    const l = layers[layer];
    const src = slot;
    const kernel = LAYER_KERNEL[l.type];
    switch (kernel) {
      case 'dense':
      case 'hashed-dense': {
        if (!('inDim' in l) || shape.length !== 1 || shape[0] !== l.inDim) return null;
        const hashed = kernel === 'hashed-dense';
        if (hashed && !l.hash) return null;
        const { inDim, outDim } = l;
        const h = hashed ? { buckets: l.hash!.buckets, seed: l.hash!.seed >>> 0 } : null;
        ops.push({
          layer,
          kernel,
          src,
          dst: next([outDim]),
          params: (batch) => ({ batch, inDim, outDim, ...h }),
          weight: { name: l.weight, size: h ? h.buckets : outDim * inDim },
          bias: { name: l.bias, size: outDim },
          ...(h ? { hash: { rows: outDim, cols: inDim, ...h } } : {}),
        });
        break;
      }
      case 'conv2d':
      case 'hashed-conv2d': {
        if (!('inChannels' in l) || shape.length !== 3 || shape[0] !== l.inChannels) return null;
        const hashed = kernel === 'hashed-conv2d';
        if (hashed && !l.hash) return null;
        const { inChannels, outChannels, kernelSize, stride, padding } = l;
        const [, height, width] = shape;
        if (height + 2 * padding < kernelSize || width + 2 * padding < kernelSize || stride < 1)
          return null;
        const h = hashed ? { buckets: l.hash!.buckets, seed: l.hash!.seed >>> 0 } : null;
        const cols = inChannels * kernelSize * kernelSize;
        ops.push({
          layer,
          kernel,
          src,
          dst: next([
            outChannels,
            windowOutSize(height, kernelSize, stride, padding),
            windowOutSize(width, kernelSize, stride, padding),
          ]),
          params: (batch) => ({
            batch,
            inChannels,
            height,
            width,
            outChannels,
            kernelSize,
            stride,
            padding,
            ...h,
          }),
          weight: { name: l.weight, size: h ? h.buckets : outChannels * cols },
          bias: { name: l.bias, size: outChannels },
          ...(h ? { hash: { rows: outChannels, cols, ...h } } : {}),
        });
        break;
      }
      case 'relu': {
        const per = prod(shape);
        ops.push({
          layer,
          kernel: 'relu',
          src,
          dst: next([...shape]),
          params: (batch) => ({ size: batch * per }),
        });
        break;
      }
      case 'max-pool2d': {
        if (!('kernelSize' in l) || shape.length !== 3) return null;
        const [channels, height, width] = shape;
        const { kernelSize, stride } = l;
        if (height < kernelSize || width < kernelSize || stride < 1) return null;
        ops.push({
          layer,
          kernel,
          src,
          dst: next([
            channels,
            windowOutSize(height, kernelSize, stride, 0),
            windowOutSize(width, kernelSize, stride, 0),
          ]),
          params: (batch) => ({ batch, channels, height, width, kernelSize, stride }),
        });
        break;
      }
      case null: // flatten
        // Row-major NCHW is already the flattened layout: same buffer, new per-example shape.
        shape = [prod(shape)];
        ops.push({ layer, kernel: null, src, dst: src, params: () => ({}) });
        break;
      default:
        return null; // avg-pool2d: no WGSL kernel yet
    }
  }
  if (shape.length !== 1) return null;
  return { inputShape: [...inputShape], ops, slotFloats, outputs: shape[0] };
}

/**
 * Loop iterations one invocation of `op`'s -grad-weight kernel runs per batch row (it reduces over the batch):
 * `maxEntries` is a hashed layer's largest bucket. gpu-chain.ts splits the batch so no invocation runs more
 * than its loop budget.
 */
export function gradWeightIterations(op: PlanOp, maxEntries: number): number {
  const p = op.params(1);
  if (op.kernel === 'dense') return 2; // the weight's loop over rows, and the bias's
  if (op.kernel === 'hashed-dense') return maxEntries + 1;
  const outH = windowOutSize(p.height, p.kernelSize, p.stride, p.padding);
  const outW = windowOutSize(p.width, p.kernelSize, p.stride, p.padding);
  // conv2d: rows × outH × (1 + outW) for the weight and outH·outW more for the bias (same invocation).
  if (op.kernel === 'conv2d') return outH * (1 + 2 * outW);
  return maxEntries * outH * (1 + outW) + outH * outW + 1;
}
