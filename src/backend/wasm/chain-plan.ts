// Lowers a network's layers (ChainLayer, i.e. nn's LayerSpec) to the ops of a WASM chain: per op its kernel,
// geometry and activation layouts, and per weighted op the arena block sizes its packed weights take.
// Pure: memory is chain-arena.ts's, the passes chain-run.ts's.
import { LAYER_KERNEL, type ChainLayer } from '../../tensor/index.ts';
import { sweepSize, type Conv2dGeometry, type PoolWindow } from '../cpu/index.ts';
import { ceil4, ceil8 } from './gemm.ts';

/** A weighted op's parameters by name; hashed layers add the index table of their [rows × cols] virtual weight. */
export interface WeightRef {
  weight: string;
  bias: string;
  hash: { rows: number; cols: number; seed: number; buckets: number } | null;
  /** Floats in the fwd, bwd, bias and direct-kernel arena blocks (the last 0 where there is none). */
  sizes: [number, number, number, number];
}

/** One image's convolution: the reference's geometry without the batch size. */
export type ConvShape = Omit<Conv2dGeometry, 'n'>;

/**
 * colRows: rows of a column matrix [colRows × np]: the ckk im2col rows, a row of ones over the ohw pixels
 * (so the weight-gradient GEMM yields the bias gradient as one more output row), zero rows up to a multiple of 4.
 */
export interface ConvOp extends ConvShape {
  kind: 'conv2d';
  layer: number;
  ref: WeightRef;
  ocp: number;
  np: number;
  colRows: number;
  /** Geometry of the direct kernel (conv2d_direct), or null where im2col + GEMM runs every pass. */
  direct: DirectConv | null;
}

/** A direct convolution's padded image (c planes of hp × wp) and output planes (pairs·2 of nq floats). */
export interface DirectConv {
  hp: number;
  wp: number;
  nq: number;
  pairs: number;
}

export interface DenseOp {
  kind: 'dense';
  layer: number;
  ref: WeightRef;
  f: number;
  ldIn: number;
  out: number;
  outp: number;
}
export interface MaxPool2dOp extends PoolWindow {
  kind: 'max-pool2d';
  c: number;
}
export interface FlattenOp {
  kind: 'flatten';
  f: number;
  ld: number;
}
export type ChainOp = ConvOp | DenseOp | MaxPool2dOp | { kind: 'relu' } | FlattenOp;
export type WeightedOp = ConvOp | DenseOp;

/** Activation layout: NCHW planes, or rows [N × ld] with `f` valid features (ld ≥ f, padding columns zero). */
export type Layout =
  { kind: 'nchw'; c: number; h: number; w: number } | { kind: 'rows'; f: number; ld: number };

export const floatsPerImage = (l: Layout) => (l.kind === 'nchw' ? l.c * l.h * l.w : l.ld);
export const isWeighted = (op: ChainOp): op is WeightedOp =>
  op.kind === 'conv2d' || op.kind === 'dense';

export interface WasmPlan {
  inputShape: readonly number[];
  ops: ChainOp[];
  /** layouts[i] = input of op i; layouts[ops.length] = output. */
  layouts: Layout[];
}

/**
 * The direct kernel for a stride-1 convolution whose im2col would cost about what its GEMM does: few taps per
 * output (c·k·k ≤ 32, the first layer of an image model) and little waste at the padded width (ow ≥ ¾ of it).
 * Forward passes that keep columns for weight gradients still run im2col + GEMM (they need the columns).
 */
function directFor({ c, h, w, k, s, p, oc, oh, ow }: ConvShape): DirectConv | null {
  const wp = w + 2 * p;
  if (s !== 1 || c * k * k > 32 || ow < 0.75 * wp) return null;
  return { hp: h + 2 * p, wp, nq: Math.ceil((oh * wp) / 16) * 16, pairs: Math.ceil(oc / 2) };
}

const hashOf = (l: { hash?: { buckets: number; seed: number } }, rows: number, cols: number) =>
  l.hash ? { rows, cols, seed: l.hash.seed, buckets: l.hash.buckets } : null;

/**
 * The plan for `layers` on per-example input `inputShape`, or null for a network it does not cover (avg
 * pooling, a non-image input, shapes that do not chain): the caller runs op by op.
 *
 * Packed blocks (float32, zero-padded): conv: fwd W [ocp × ckk], bwd Wᵀ [ckkp × oc] (dx = Wᵀ·dy); dense: fwd
 * Wᵀ [ldIn × outp], bwd W [outp × ldIn] (dx = dy·W); bias [oc] or [outp]; for a direct conv, conv2d_direct's
 * (w[o], w[o+1]) couples per channel pair.
 */
export function planChain(
  layers: readonly ChainLayer[],
  inputShape: readonly number[],
): WasmPlan | null {
  if (inputShape.length !== 3) return null;
  let layout: Layout = { kind: 'nchw', c: inputShape[0], h: inputShape[1], w: inputShape[2] };
  const layouts: Layout[] = [layout];
  const ops: ChainOp[] = [];
  for (let layer = 0; layer < layers.length; layer++) {
    const l = layers[layer];
    switch (LAYER_KERNEL[l.type]) {
      case 'conv2d':
      case 'hashed-conv2d': {
        if (layout.kind !== 'nchw' || !('inChannels' in l)) return null;
        const { inChannels: ci, outChannels: oc, kernelSize: k, stride: s, padding: p } = l;
        if (ci !== layout.c || (l.type === 'hashed-conv2d' && !l.hash)) return null;
        const oh = sweepSize(layout.h, k, s, p),
          ow = sweepSize(layout.w, k, s, p);
        if (oh < 1 || ow < 1) return null;
        const shape: ConvShape = { c: ci, h: layout.h, w: layout.w, oc, k, s, p, oh, ow };
        const ckk = ci * k * k,
          ocp = ceil4(oc);
        const direct = directFor(shape);
        const ref: WeightRef = {
          weight: l.weight,
          bias: l.bias,
          hash: hashOf(l, oc, ckk),
          sizes: [ocp * ckk, ceil4(ckk) * oc, oc, direct ? direct.pairs * 2 * ckk : 0],
        };
        ops.push({
          kind: 'conv2d',
          layer,
          ref,
          ...shape,
          ocp,
          np: ceil8(oh * ow),
          colRows: ceil4(ckk + 1),
          direct,
        });
        layout = { kind: 'nchw', c: oc, h: oh, w: ow };
        break;
      }
      case 'max-pool2d': {
        if (layout.kind !== 'nchw' || !('kernelSize' in l)) return null;
        const { kernelSize: k, stride: s } = l;
        const oh = sweepSize(layout.h, k, s, 0),
          ow = sweepSize(layout.w, k, s, 0);
        if (oh < 1 || ow < 1) return null;
        ops.push({ kind: 'max-pool2d', c: layout.c, h: layout.h, w: layout.w, k, s, oh, ow });
        layout = { kind: 'nchw', c: layout.c, h: oh, w: ow };
        break;
      }
      case 'relu':
        ops.push({ kind: 'relu' });
        break;
      case null: {
        // flatten
        const f: number = layout.kind === 'nchw' ? layout.c * layout.h * layout.w : layout.f;
        const ld = ceil8(f); // a multiple of 8: the backward GEMM dx = dy·W has it as its column count
        ops.push({ kind: 'flatten', f, ld });
        layout = { kind: 'rows', f, ld };
        break;
      }
      case 'dense':
      case 'hashed-dense': {
        if (layout.kind !== 'rows' || !('inDim' in l)) return null;
        const { inDim, outDim: out } = l;
        if (inDim !== layout.f || (l.type === 'hashed-dense' && !l.hash)) return null;
        const outp = ceil8(out),
          ldIn = layout.ld;
        const ref: WeightRef = {
          weight: l.weight,
          bias: l.bias,
          hash: hashOf(l, out, inDim),
          sizes: [ldIn * outp, outp * ldIn, outp, 0],
        };
        ops.push({ kind: 'dense', layer, ref, f: inDim, ldIn, out, outp });
        layout = { kind: 'rows', f: out, ld: outp };
        break;
      }
      default:
        return null; // avg-pool2d: no WASM kernel
    }
    layouts.push(layout);
  }
  if (layout.kind !== 'rows' && ops.some((o) => o.kind === 'dense')) return null;
  return { inputShape: [...inputShape], ops, layouts };
}
