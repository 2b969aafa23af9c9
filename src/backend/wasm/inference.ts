// Whole-network inference inside WebAssembly memory: a chain of conv / dense / relu / max-pool / flatten steps
// compiled once per set of weights (packed and padded for the 4×8 GEMM), then run per batch with every
// activation in linear memory. Only the input goes in and the logits come out: no per-op JS arrays, which
// in JSC cost more than the arithmetic (a fresh 3.5 MB Float32Array takes about as long as a LeNet conv).
import type { InferenceStep } from '../../tensor/backend.ts';
import { Tensor } from '../../tensor/tensor.ts';
import { ceil4, ceil8, sgemmPacked } from './gemm.ts';
import { copyOut, scratch } from './module.ts';

type Op =
  | { kind: 'conv'; w: number; b: number; c: number; h: number; wd: number; oc: number; k: number; s: number; p: number; oh: number; ow: number; ocp: number; np: number }
  | { kind: 'dense'; w: number; b: number; ldIn: number; out: number; outp: number }
  | { kind: 'relu' }
  | { kind: 'pool'; c: number; h: number; w: number; k: number; s: number; oh: number; ow: number }
  | { kind: 'flatten' };

/** Activation layout: NCHW planes, or rows [N × ld] with `f` valid features (ld ≥ f, padding zero). */
type Layout = { kind: 'nchw'; c: number; h: number; w: number } | { kind: 'rows'; f: number; ld: number };

/** Compiles the steps, or returns null for a chain this engine does not cover (the caller runs op by op). */
export function compileInference(steps: readonly InferenceStep[], inputShape: readonly number[]): ((x: Tensor) => Tensor) | null {
  if (inputShape.length !== 3) return null;
  let layout: Layout = { kind: 'nchw', c: inputShape[0], h: inputShape[1], w: inputShape[2] };
  const ops: Op[] = [];
  const packed: Float32Array[] = []; // weights and biases, laid out in linear memory in this order
  let perImage = inputShape[0] * inputShape[1] * inputShape[2]; // largest activation, floats per image
  let slack = 0; // floats a GEMM may write past the last image (padding rows of the last tile)
  let maxCols = 0, maxTmp = 0;
  const add = (a: Float32Array) => packed.push(a) - 1;
  for (const step of steps) {
    if ((step.kind === 'conv2d' || step.kind === 'dense') && (step.weight.dtype !== 'f32' || step.bias.dtype !== 'f32')) return null;
    switch (step.kind) {
      case 'conv2d': {
        if (layout.kind !== 'nchw') return null;
        const [oc, ci, k, k2] = step.weight.shape;
        const { stride: s, padding: p } = step.params;
        if (ci !== layout.c || k !== k2 || step.bias.size !== oc) return null;
        const oh: number = Math.floor((layout.h + 2 * p - k) / s) + 1, ow: number = Math.floor((layout.w + 2 * p - k) / s) + 1;
        if (oh < 1 || ow < 1) return null;
        const ckk = ci * k * k, ocp = ceil4(oc), np = ceil8(oh * ow);
        const wp = new Float32Array(ocp * ckk);
        wp.set(step.weight.data as Float32Array);
        ops.push({ kind: 'conv', w: add(wp), b: add(step.bias.data as Float32Array), c: ci, h: layout.h, wd: layout.w, oc, k, s, p, oh, ow, ocp, np });
        maxCols = Math.max(maxCols, ckk * np);
        if (np !== oh * ow) maxTmp = Math.max(maxTmp, ocp * np);
        else slack = Math.max(slack, (ocp - oc) * oh * ow);
        layout = { kind: 'nchw', c: oc, h: oh, w: ow };
        perImage = Math.max(perImage, oc * oh * ow);
        break;
      }
      case 'maxPool2d': {
        if (layout.kind !== 'nchw') return null;
        const { kernelSize: k, stride: s } = step.params;
        const oh: number = Math.floor((layout.h - k) / s) + 1, ow: number = Math.floor((layout.w - k) / s) + 1;
        if (oh < 1 || ow < 1) return null;
        ops.push({ kind: 'pool', c: layout.c, h: layout.h, w: layout.w, k, s, oh, ow });
        layout = { kind: 'nchw', c: layout.c, h: oh, w: ow };
        break;
      }
      case 'relu':
        ops.push({ kind: 'relu' });
        break;
      case 'flatten': {
        if (layout.kind === 'nchw') layout = { kind: 'rows', f: layout.c * layout.h * layout.w, ld: layout.c * layout.h * layout.w };
        ops.push({ kind: 'flatten' });
        break;
      }
      case 'dense': {
        if (layout.kind !== 'rows') return null;
        const [out, inDim] = step.weight.shape;
        if (inDim !== layout.f || step.bias.size !== out) return null;
        const outp = ceil8(out);
        // Wᵀ as the GEMM's B: [ldIn × outp], zero in padded rows (input padding) and columns (output padding).
        const bt = new Float32Array(layout.ld * outp);
        const w = step.weight.data as Float32Array;
        for (let o = 0; o < out; o++) for (let i = 0; i < inDim; i++) bt[i * outp + o] = w[o * inDim + i];
        const bp = new Float32Array(outp);
        bp.set(step.bias.data as Float32Array);
        ops.push({ kind: 'dense', w: add(bt), b: add(bp), ldIn: layout.ld, out, outp });
        layout = { kind: 'rows', f: out, ld: outp };
        perImage = Math.max(perImage, outp);
        break;
      }
    }
  }
  const final = layout;
  const outShape = (n: number) => (final.kind === 'rows' ? [n, final.f] : [n, final.c, final.h, final.w]);

  return (x: Tensor): Tensor => {
    const n = x.shape[0];
    if (x.dtype !== 'f32' || x.shape.slice(1).join() !== inputShape.join()) throw new Error(`inference: input must be f32 [N, ${inputShape.join(', ')}], got [${x.shape.join(', ')}]`);
    if (n === 0) return new Tensor(outShape(0), new Float32Array(0));
    // Activations hold ceil4(n) images (GEMM tiles read up to 3 padding rows) plus the tile slack.
    const act = ceil4(n) * perImage + slack + 8;
    const sizes = [...packed.map((a) => a.length), act, act, maxCols, maxTmp];
    const { kernels, offsets, views } = scratch(sizes);
    packed.forEach((a, i) => views[i].set(a));
    const pCols = offsets[packed.length + 2], pTmp = offsets[packed.length + 3];
    // Two activation buffers, ping-pong: index into offsets/views.
    let cur = packed.length, other = packed.length + 1;
    views[cur].set(x.data as Float32Array);
    let lay: Layout = { kind: 'nchw', c: inputShape[0], h: inputShape[1], w: inputShape[2] };
    const swap = () => ([cur, other] = [other, cur]);
    for (const op of ops) {
      switch (op.kind) {
        case 'conv': {
          const inPlane = op.c * op.h * op.wd, ohw = op.oh * op.ow, ckk = op.c * op.k * op.k;
          for (let b = 0; b < n; b++) {
            kernels.im2col(0, offsets[cur] + b * inPlane * 4, pCols, 1, op.c, op.h, op.wd, op.k, op.s, op.p, op.oh, op.ow, op.np);
            const dst = offsets[other] + b * op.oc * ohw * 4;
            if (op.np === ohw) {
              // C rows land straight in NCHW order; the padding rows past oc spill into image b+1's area,
              // which is written after (images go in order), or into the slack after the last image.
              sgemmPacked(kernels, offsets[op.w], pCols, dst, op.ocp, op.np, ckk, false);
            } else {
              sgemmPacked(kernels, offsets[op.w], pCols, pTmp, op.ocp, op.np, ckk, false);
              kernels.copy_rows(pTmp, dst, op.oc, ohw, op.np, ohw);
            }
          }
          kernels.bias_add(offsets[other], offsets[op.b], offsets[other], n * op.oc, op.oc, ohw);
          swap();
          lay = { kind: 'nchw', c: op.oc, h: op.oh, w: op.ow };
          break;
        }
        case 'pool':
          kernels.max_pool(0, offsets[cur], 0, offsets[other], n * op.c, op.h, op.w, op.k, op.s, op.oh, op.ow);
          swap();
          lay = { kind: 'nchw', c: op.c, h: op.oh, w: op.ow };
          break;
        case 'relu': {
          const count = lay.kind === 'nchw' ? n * lay.c * lay.h * lay.w : ceil4(n) * lay.ld;
          kernels.relu(offsets[cur], offsets[cur], ceil4(count));
          break;
        }
        case 'flatten':
          if (lay.kind === 'nchw') lay = { kind: 'rows', f: lay.c * lay.h * lay.w, ld: lay.c * lay.h * lay.w };
          break;
        case 'dense':
          sgemmPacked(kernels, offsets[cur], offsets[op.w], offsets[other], ceil4(n), op.outp, op.ldIn, false);
          kernels.row_bias(offsets[other], offsets[op.b], ceil4(n), op.outp);
          swap();
          lay = { kind: 'rows', f: op.out, ld: op.outp };
          break;
      }
    }
    if (lay.kind === 'rows' && lay.ld !== lay.f) {
      kernels.copy_rows(offsets[cur], offsets[other], n, lay.f, lay.ld, lay.f); // drop the column padding
      swap();
    }
    const count = lay.kind === 'rows' ? n * lay.f : n * lay.c * lay.h * lay.w;
    return new Tensor(outShape(n), copyOut(views[cur], count));
  };
}
