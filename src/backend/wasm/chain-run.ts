// The passes of a WASM chain over its arena: forward (inference, or keeping activations and im2col columns)
// and backward (dL/dx and per weighted op dL/dW, dL/db of the weight the kernels saw). Only the input,
// dL/dlogits and the results cross into JS.
import { Tensor } from '../../tensor/index.ts';
import { ceil4, ceil8, sgemmPacked } from './gemm.ts';
import { wasm, type Kernels } from './module.ts';
import { floatsPerImage, type ConvOp, type DenseOp, type WasmPlan } from './chain-plan.ts';
import { im2col } from './conv2d.ts';
import type { ArenaLayout } from './chain-arena.ts';

type View = (offset: number, length: number) => Float32Array;

/** What a pass works with: the kernels, float views of linear memory, and the chain's arena. */
interface Pass {
  kernels: Kernels;
  f32: View;
  L: ArenaLayout;
}

function view(L: ArenaLayout): Pass {
  const { kernels, memory } = wasm();
  return { kernels, f32: (off, len) => new Float32Array(memory.buffer, off, len), L };
}

/** Output shape of the chain for n images. */
export function outputShape(plan: WasmPlan, n: number): number[] {
  const final = plan.layouts[plan.layouts.length - 1];
  return final.kind === 'rows' ? [n, final.f] : [n, final.c, final.h, final.w];
}

/**
 * Runs the forward pass of n images (x already validated) and returns the output. With `colsKept` (offsets per
 * op from the arena), conv ops write their column matrices there, ones rows included, for the weight gradients.
 */
export function runForward(
  plan: WasmPlan,
  L: ArenaLayout,
  x: Float32Array,
  n: number,
  colsKept: number[] | null,
): Tensor {
  const { ops, layouts } = plan;
  const { kernels, f32 } = view(L);
  const nP = ceil4(n);
  const per0 = floatsPerImage(layouts[0]);
  f32(L.act[0], nP * per0).set(x);
  f32(L.act[0] + n * per0 * 4, (nP - n) * per0).fill(0); // padding images: zero, so every value stays finite
  let wi = 0;
  ops.forEach((op, i) => {
    const src = L.act[i],
      dst = L.act[i + 1];
    switch (op.kind) {
      case 'conv2d': {
        const W = L.weights[wi++];
        const inPlane = op.c * op.h * op.w,
          ohw = op.oh * op.ow,
          ckk = op.c * op.k * op.k;
        const d = op.direct;
        if (d && !colsKept) {
          const xp = f32(L.xpad, op.c * d.hp * d.wp + 32);
          for (let b = 0; b < n; b++) {
            // the image into the zeroed padded planes, the direct kernel, then rows back to ow wide
            xp.fill(0);
            for (let ci = 0; ci < op.c; ci++)
              kernels.copy_rows(
                src + (b * inPlane + ci * op.h * op.w) * 4,
                L.xpad + ((ci * d.hp + op.p) * d.wp + op.p) * 4,
                op.h,
                op.w,
                op.w,
                d.wp,
              );
            kernels.conv2d_direct(L.xpad, W.dir, L.tmp, op.c, d.pairs, d.hp, d.wp, op.k, d.nq);
            const out = dst + b * op.oc * ohw * 4;
            for (let o = 0; o < op.oc; o++)
              kernels.copy_rows(L.tmp + o * d.nq * 4, out + o * ohw * 4, op.oh, op.ow, d.wp, op.ow);
          }
          kernels.bias_add(dst, W.bias, dst, n * op.oc, op.oc, ohw);
          break;
        }
        for (let b = 0; b < n; b++) {
          const cols = colsKept ? colsKept[i] + b * op.colRows * op.np * 4 : L.cols;
          im2col(kernels, 0, src + b * inPlane * 4, cols, 1, op, op.np);
          const out = dst + b * op.oc * ohw * 4;
          if (op.np === ohw) {
            // C rows land straight in NCHW order; the tile's padding rows spill into image b+1's area,
            // written after (images go in order), or into the arena's slack after the last image.
            sgemmPacked(kernels, W.fwd, cols, out, op.ocp, op.np, ckk, false);
          } else {
            sgemmPacked(kernels, W.fwd, cols, L.tmp, op.ocp, op.np, ckk, false);
            kernels.copy_rows(L.tmp, out, op.oc, ohw, op.np, ohw);
          }
          if (colsKept) onesRows(f32, cols, op);
        }
        kernels.bias_add(dst, W.bias, dst, n * op.oc, op.oc, ohw);
        break;
      }
      case 'max-pool2d':
        kernels.max_pool2d(0, src, 0, dst, n * op.c, op.h, op.w, op.k, op.s, op.oh, op.ow);
        break;
      case 'relu': {
        const l = layouts[i];
        kernels.relu(src, dst, ceil4(l.kind === 'nchw' ? n * floatsPerImage(l) : nP * l.ld));
        break;
      }
      case 'flatten': {
        const l = layouts[i];
        const f = floatsPerImage(l);
        if (l.kind === 'rows') kernels.copy_rows(src, dst, n, l.f, l.ld, op.ld);
        else kernels.copy_rows(src, dst, n, f, f, op.ld);
        // Padding columns and padding rows are zero: dense GEMMs read them (times zero weights, or as
        // rows whose gradient is zero), and 0 · finite = 0.
        const v = f32(dst, nP * op.ld);
        if (op.ld > op.f) for (let r = 0; r < n; r++) v.fill(0, r * op.ld + op.f, (r + 1) * op.ld);
        v.fill(0, n * op.ld, nP * op.ld);
        break;
      }
      case 'dense': {
        const W = L.weights[wi++];
        sgemmPacked(kernels, src, W.fwd, dst, nP, op.outp, op.ldIn, false, n);
        kernels.bias_add_rows(dst, W.bias, nP, op.outp);
        break;
      }
    }
  });
  const final = layouts[layouts.length - 1];
  const out = L.act[layouts.length - 1];
  const res = new Float32Array(n * (final.kind === 'rows' ? final.f : floatsPerImage(final)));
  if (final.kind === 'rows') {
    const v = f32(out, n * final.ld);
    for (let r = 0; r < n; r++)
      res.set(v.subarray(r * final.ld, r * final.ld + final.f), r * final.f);
  } else res.set(f32(out, res.length));
  return new Tensor(outputShape(plan, n), res);
}

/** Per op, the gradients of its (virtual) weight and bias; null for ops without weights or when not asked. */
export type OpGrads = ({ weight: Tensor; bias: Tensor } | null)[];

/**
 * Backward pass of the n images the last forward kept: dL/dx (want.input) and per weighted op the parameter
 * gradients (want.params). `keptAt[i]` ≥ 0 where op i's columns were kept for these images.
 */
export function runBackward(
  plan: WasmPlan,
  L: ArenaLayout,
  dy: Float32Array,
  n: number,
  want: { input: boolean; params: boolean },
  keptAt: number[] | null,
): { dx: Tensor | null; grads: OpGrads } {
  const { ops, layouts } = plan;
  const final = layouts[layouts.length - 1];
  const nP = ceil4(n);
  const pass = view(L);
  const { kernels, f32 } = pass;
  let [g, gNext] = L.grad;
  // dL/d(output) into a zero-padded buffer in the output's layout.
  {
    const per = floatsPerImage(final);
    const v = f32(g, nP * per);
    v.fill(0);
    if (final.kind === 'rows')
      for (let r = 0; r < n; r++) v.set(dy.subarray(r * final.f, (r + 1) * final.f), r * final.ld);
    else v.set(dy);
  }
  const grads: OpGrads = ops.map(() => null);
  // Gradients flow down to op stopAt's input: the batch (want.input) or the first weighted op's output.
  const firstWeighted = ops.findIndex((o) => o.kind === 'conv2d' || o.kind === 'dense');
  const stopAt = want.input
    ? 0
    : want.params && firstWeighted >= 0
      ? firstWeighted + 1
      : ops.length;
  let wi = L.weights.length;
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i];
    const x = L.act[i],
      y = L.act[i + 1];
    const W = op.kind === 'conv2d' || op.kind === 'dense' ? L.weights[--wi] : null;
    if (want.params && op.kind === 'dense') grads[i] = denseParamGrads(pass, op, g, x, n);
    if (want.params && op.kind === 'conv2d')
      grads[i] = convParamGrads(pass, op, g, x, n, keptAt ? keptAt[i] : -1);
    if (i < stopAt) break;
    switch (op.kind) {
      case 'relu': {
        const l = layouts[i];
        kernels.relu_grad_input(y, g, ceil4(l.kind === 'nchw' ? n * floatsPerImage(l) : nP * l.ld));
        continue; // in place
      }
      case 'max-pool2d':
        f32(gNext, n * op.c * op.h * op.w).fill(0);
        kernels.max_pool2d(1, x, g, gNext, n * op.c, op.h, op.w, op.k, op.s, op.oh, op.ow);
        break;
      case 'flatten': {
        const l = layouts[i];
        if (l.kind === 'rows') kernels.copy_rows(g, gNext, nP, l.f, op.ld, l.ld);
        else kernels.copy_rows(g, gNext, n, op.f, op.ld, op.f);
        break;
      }
      case 'dense':
        // dx [nP × ldIn] = dy [nP × outp] · W [outp × ldIn]
        sgemmPacked(kernels, g, W!.bwd, gNext, nP, op.ldIn, op.outp, false, n);
        break;
      case 'conv2d': {
        // dx_b = col2im(Wᵀ [ckkp × oc] · dy_b [oc × np])
        const ckkp = ceil4(op.c * op.k * op.k),
          ohw = op.oh * op.ow,
          inPlane = op.c * op.h * op.w;
        f32(gNext, n * inPlane).fill(0);
        for (let b = 0; b < n; b++) {
          let dyb = g + b * op.oc * ohw * 4;
          if (op.np !== ohw) {
            kernels.copy_rows(dyb, L.tmp, op.oc, ohw, ohw, op.np);
            for (let o = 0; o < op.oc; o++) f32(L.tmp + (o * op.np + ohw) * 4, op.np - ohw).fill(0);
            dyb = L.tmp;
          }
          sgemmPacked(kernels, W!.bwd, dyb, L.cols, ckkp, op.np, op.oc, false);
          im2col(kernels, 1, gNext + b * inPlane * 4, L.cols, 1, op, op.np);
        }
        break;
      }
    }
    [g, gNext] = [gNext, g];
  }
  let dx: Tensor | null = null;
  if (want.input) {
    const per = floatsPerImage(layouts[0]);
    const res = new Float32Array(n * per);
    res.set(f32(g, n * per));
    dx = new Tensor([n, ...plan.inputShape], res);
  }
  return { dx, grads };
}

/** dW [outp × ldIn] = dyᵀ [outp × nP] · x [nP × ldIn] (padding rows of dy are zero); db = Σ_rows dy. */
function denseParamGrads({ kernels, f32, L }: Pass, op: DenseOp, g: number, x: number, n: number) {
  const nP = ceil4(n);
  kernels.transpose(g, L.dyt, nP, op.outp, op.outp, nP);
  sgemmPacked(kernels, L.dyt, x, L.dwt, op.outp, op.ldIn, nP, false);
  const dwv = f32(L.dwt, op.outp * op.ldIn),
    gv = f32(g, n * op.outp);
  const dw = new Float32Array(op.out * op.f);
  for (let o = 0; o < op.out; o++) dw.set(dwv.subarray(o * op.ldIn, o * op.ldIn + op.f), o * op.f);
  const db = new Float32Array(op.out);
  for (let r = 0; r < n; r++) for (let o = 0; o < op.out; o++) db[o] += gv[r * op.outp + o];
  return { weight: new Tensor([op.out, op.f], dw), bias: new Tensor([op.out], db) };
}

/**
 * [dWᵀ; dbᵀ] [colRows × ocp8] = Σ_b cols_b [colRows × np] · dy_bᵀ [np × ocp8]: the ones row of each column
 * matrix turns into the bias gradient. Columns come from forward(x, 'params') (keptAt ≥ 0) or are rebuilt.
 */
function convParamGrads(
  { kernels, f32, L }: Pass,
  op: ConvOp,
  g: number,
  x: number,
  n: number,
  keptAt: number,
) {
  const ckk = op.c * op.k * op.k,
    ohw = op.oh * op.ow,
    ocp8 = ceil8(op.oc),
    inPlane = op.c * op.h * op.w;
  f32(L.dyt, op.np * ocp8).fill(0); // rows ohw..np stay 0 (they meet the columns' zero padding)
  for (let b = 0; b < n; b++) {
    let cols = keptAt + b * op.colRows * op.np * 4;
    if (keptAt < 0) {
      cols = L.cols;
      im2col(kernels, 0, x + b * inPlane * 4, cols, 1, op, op.np);
      onesRows(f32, cols, op);
    }
    kernels.transpose(g + b * op.oc * ohw * 4, L.dyt, op.oc, ohw, ohw, ocp8);
    sgemmPacked(kernels, cols, L.dyt, L.dwt, op.colRows, ocp8, op.np, b > 0);
  }
  const dwt = f32(L.dwt, op.colRows * ocp8);
  const dw = new Float32Array(op.oc * ckk);
  for (let o = 0; o < op.oc; o++) for (let r = 0; r < ckk; r++) dw[o * ckk + r] = dwt[r * ocp8 + o];
  const db = Float32Array.from(dwt.subarray(ckk * ocp8, ckk * ocp8 + op.oc));
  return { weight: new Tensor([op.oc, op.c, op.k, op.k], dw), bias: new Tensor([op.oc], db) };
}

/** Rows ckk.. of a column matrix: ones over the ohw pixels (zero on the padding columns), then zero rows. */
function onesRows(f32: View, cols: number, op: ConvOp): void {
  const ckk = op.c * op.k * op.k,
    ohw = op.oh * op.ow;
  const tail = f32(cols + ckk * op.np * 4, (op.colRows - ckk) * op.np);
  tail.fill(0);
  tail.fill(1, 0, ohw);
}
