// The importer's growing layer list: weighted layers kept in float64 until the end so that per-channel constants,
// batch norms and scalar ops that follow them fold into their weights exactly; consecutive affine maps merge; and
// the shapes (ONNX's and hashguard's) of the value the chain has reached.
import { Tensor } from '../tensor/index.ts';
import { MAX_AFFINE_LENGTH, type LayerSpec } from '../nn/index.ts';
import { OnnxError } from './errors.ts';
import { elementCount } from './onnx-model.ts';

/** Largest activation (elements per example) an imported model may produce, like the tensor limit. */
export const MAX_ACTIVATION = 2 ** 28;
/** Longest affine scale/shift the model file accepts (per channel or feature); longer ones are refused here. */
export { MAX_AFFINE_LENGTH };

/** A dense or conv layer under construction: weight [out][in] or [out][in][k][k], float64. */
export interface PendingLinear {
  kind: 'linear';
  type: 'dense' | 'conv2d';
  inSize: number;
  outSize: number;
  kernelSize: number;
  stride: number;
  padding: number;
  weight: Float64Array;
  bias: Float64Array;
  /** Initializer names the tensors came from (kept as tensor names when usable). */
  weightName: string;
  biasName: string;
}

/** y = x·scale + shift per channel (or feature); length-1 arrays broadcast. `where` names the first source. */
export interface PendingAffine {
  kind: 'affine';
  scale: Float64Array;
  shift: Float64Array;
  where: string;
}

export type Pending = PendingLinear | PendingAffine | { kind: 'spec'; spec: LayerSpec };

export class LayerList {
  readonly items: Pending[] = [];
  readonly notes: string[] = [];
  /** Per-example shape as the ONNX graph sees the current value. */
  shape: number[];
  /**
   * Per-example shape of the same values in hashguard's layers. It differs from `shape` only after a Transpose
   * or Squeeze that moved size-1 dimensions (no data moved): then only shape-blind ops may follow.
   */
  hgShape: number[];
  /** Padding of a zero Pad node waiting for the Conv that absorbs it. */
  pendingPad: { pad: number; where: string } | null = null;

  constructor(shape: readonly number[]) {
    this.shape = [...shape];
    this.hgShape = [...shape];
  }

  /** Whether the ONNX shape is a relabelling of hashguard's (see hgShape). */
  get isView(): boolean {
    return (
      this.shape.length !== this.hgShape.length || this.shape.some((d, i) => d !== this.hgShape[i])
    );
  }

  /** Sets both shapes (after a layer that defines the layout), refusing activations over the limit. */
  setShape(shape: readonly number[], where: string): void {
    checkActivation(shape, where);
    this.shape = [...shape];
    this.hgShape = [...shape];
  }

  push(p: Pending): void {
    this.items.push(p);
  }

  spec(spec: LayerSpec): void {
    this.items.push({ kind: 'spec', spec });
  }

  /**
   * Applies y = x·scale + shift over the channel axis (length 1 or shape[0]): folded into a directly preceding
   * dense/conv layer, merged into a directly preceding affine layer, else a new affine layer.
   */
  affine(
    scale: Float64Array,
    shift: Float64Array,
    where: string,
    what: string,
    shiftName = '',
  ): void {
    const last = this.items[this.items.length - 1];
    if (scale.every((s) => s === 1) && shift.every((t) => t === 0)) {
      this.notes.push(`${where}: ${what} is the identity, removed`);
      return;
    }
    if (last?.kind === 'linear') {
      const per = last.weight.length / last.outSize;
      for (let o = 0; o < last.outSize; o++) {
        const s = scale.length === 1 ? scale[0] : scale[o];
        const t = shift.length === 1 ? shift[0] : shift[o];
        for (let j = o * per; j < (o + 1) * per; j++) last.weight[j] *= s;
        last.bias[o] = last.bias[o] * s + t;
      }
      // MatMul then Add: the added constant is the layer's bias, so it names the bias tensor.
      if (!last.biasName && scale.every((s) => s === 1)) last.biasName = shiftName;
      this.notes.push(
        `${where}: ${what} folded into layers[${this.items.length - 1}] (${last.type})`,
      );
      return;
    }
    if (last?.kind === 'affine') {
      const n = Math.max(last.scale.length, scale.length);
      const at = (a: Float64Array, i: number) => (a.length === 1 ? a[0] : a[i]);
      const s2 = new Float64Array(n),
        t2 = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        s2[i] = at(last.scale, i) * at(scale, i);
        t2[i] = at(last.shift, i) * at(scale, i) + at(shift, i);
      }
      last.scale = s2;
      last.shift = t2;
      this.notes.push(`${where}: ${what} merged into the affine layers[${this.items.length - 1}]`);
      return;
    }
    this.items.push({ kind: 'affine', scale, shift, where });
    this.notes.push(`${where}: ${what} became an affine layer (layers[${this.items.length - 1}])`);
  }

  /** The final LayerSpec list and float32 parameters, with unique tensor names. */
  finish(): { layers: LayerSpec[]; params: Map<string, Tensor> } {
    const params = new Map<string, Tensor>();
    const taken = new Set<string>();
    const name = (wanted: string, fallback: string): string => {
      let n = wanted && wanted !== '__metadata__' && !taken.has(wanted) ? wanted : fallback;
      for (let k = 2; taken.has(n); k++) n = `${fallback}_${k}`;
      taken.add(n);
      return n;
    };
    const layers = this.items.map((p, i): LayerSpec => {
      if (p.kind === 'spec') return p.spec;
      if (p.kind === 'affine') {
        if (p.scale.length > MAX_AFFINE_LENGTH)
          throw new OnnxError(
            `${p.where}: an affine layer over ${p.scale.length} features is longer than the model file's limit of ${MAX_AFFINE_LENGTH}`,
          );
        if (![...p.scale, ...p.shift].every(Number.isFinite))
          throw new OnnxError(`${p.where}: the affine map has non-finite constants`);
        return { type: 'affine', scale: [...p.scale], shift: [...p.shift] };
      }
      const weight = name(p.weightName, `layers.${i}.weight`);
      const bias = name(p.biasName, `layers.${i}.bias`);
      const per = p.weight.length / p.outSize;
      if (p.type === 'dense') {
        params.set(weight, new Tensor([p.outSize, p.inSize], Float32Array.from(p.weight)));
        params.set(bias, new Tensor([p.outSize], Float32Array.from(p.bias)));
        return { type: 'dense', inDim: p.inSize, outDim: p.outSize, weight, bias };
      }
      const k = p.kernelSize;
      params.set(weight, new Tensor([p.outSize, per / (k * k), k, k], Float32Array.from(p.weight)));
      params.set(bias, new Tensor([p.outSize], Float32Array.from(p.bias)));
      return {
        type: 'conv2d',
        inChannels: p.inSize,
        outChannels: p.outSize,
        kernelSize: k,
        stride: p.stride,
        padding: p.padding,
        weight,
        bias,
      };
    });
    return { layers, params };
  }
}

/** Refuses a per-example shape with a zero or over-limit element count. */
export function checkActivation(shape: readonly number[], where: string): void {
  const n = elementCount(shape);
  if (!(n >= 1) || n > MAX_ACTIVATION)
    throw new OnnxError(
      `${where}: the output [${shape.join(', ')}] per example has ${n} elements (expected 1 … 2^28)`,
    );
}
