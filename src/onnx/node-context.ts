// What an op handler sees of its node: a label for errors (index, name, op, opset), typed attribute readers with
// ONNX's defaults, and the node's constant inputs (initializers, Constant outputs, folded values).
import { OnnxError } from './errors.ts';
import {
  attrIntValue,
  DataType,
  tensorFloats,
  type OnnxAttribute,
  type OnnxNode,
  type OnnxTensor,
} from './onnx-model.ts';

/**
 * A value known at import time. Integer vectors may hold NaN where a dimension is the batch size, which is
 * unknown until run time (the output of Shape on the data); arithmetic on such a value is refused.
 */
export interface Const {
  dims: number[];
  values: Float64Array;
  /** INT32/INT64 origin (Div truncates, Cast keeps track). */
  int: boolean;
}

/** Constant values by name; initializers are converted on first use so an unused odd one costs nothing. */
export class ConstTable {
  private readonly values = new Map<string, Const>();
  private readonly tensors = new Map<string, OnnxTensor>();

  addTensor(t: OnnxTensor): void {
    this.tensors.set(t.name, t);
  }

  set(name: string, c: Const): void {
    this.values.set(name, c);
  }

  has(name: string): boolean {
    return this.values.has(name) || this.tensors.has(name);
  }

  get(name: string, where: string): Const | undefined {
    let c = this.values.get(name);
    if (c) return c;
    const t = this.tensors.get(name);
    if (!t) return undefined;
    c = constOfTensor(t, where);
    this.values.set(name, c);
    return c;
  }
}

/** A TensorProto as a Const (values as float64). */
export function constOfTensor(t: OnnxTensor, where: string): Const {
  return {
    dims: [...t.dims],
    values: tensorFloats(t, where),
    int: t.dataType === DataType.INT32 || t.dataType === DataType.INT64,
  };
}

export class NodeContext {
  /** 'node[3] "conv1" (Conv, opset 13)'. */
  readonly where: string;

  constructor(
    readonly node: OnnxNode,
    readonly index: number,
    readonly opset: number,
    private readonly consts: ConstTable,
  ) {
    this.where = `node[${index}]${node.name ? ` '${node.name}'` : ''} (${node.opType}, opset ${opset})`;
  }

  fail(why: string): never {
    throw new OnnxError(`${this.where}: ${why}`);
  }

  private attr(name: string): OnnxAttribute | undefined {
    return this.node.attribute.find((a) => a.name === name);
  }

  hasAttr(name: string): boolean {
    return this.attr(name) !== undefined;
  }

  int(name: string, fallback: number): number {
    const a = this.attr(name);
    if (!a) return fallback;
    if (a.i === undefined) this.fail(`attribute '${name}' has no int value`);
    return attrIntValue(a.i, `${this.where} attribute '${name}'`);
  }

  ints(name: string, fallback: number[] | null): number[] | null {
    const a = this.attr(name);
    if (!a) return fallback;
    return (a.ints ?? []).map((v) => attrIntValue(v, `${this.where} attribute '${name}'`));
  }

  float(name: string, fallback: number): number {
    const a = this.attr(name);
    if (!a) return fallback;
    // Some writers store a whole-number float attribute as an int: accept it as the same number.
    if (a.f === undefined && a.i !== undefined)
      return attrIntValue(a.i, `${this.where} attribute '${name}'`);
    if (a.f === undefined) this.fail(`attribute '${name}' has no float value`);
    return a.f;
  }

  floats(name: string): number[] | null {
    return this.attr(name)?.floats ?? null;
  }

  string(name: string, fallback: string): string {
    const a = this.attr(name);
    if (!a) return fallback;
    if (a.s === undefined) this.fail(`attribute '${name}' has no string value`);
    return new TextDecoder().decode(a.s);
  }

  tensor(name: string): OnnxTensor | null {
    return this.attr(name)?.t ?? null;
  }

  /** Whether input i is given (present and not the empty name of an omitted optional input). */
  hasInput(i: number): boolean {
    return (this.node.input[i] ?? '') !== '';
  }

  /** Input i, which must be a constant. */
  constInput(i: number, what: string): Const {
    const name = this.node.input[i] ?? '';
    if (name === '') this.fail(`${what} (input ${i}) is missing`);
    const c = this.consts.get(name, this.where);
    if (!c)
      this.fail(
        `${what} (input ${i}, '${name}') must be a constant (an initializer, a Constant or a value folded from them)`,
      );
    return c;
  }

  /** Input i as a constant, or null when omitted. */
  optionalConst(i: number, what: string): Const | null {
    return this.hasInput(i) ? this.constInput(i, what) : null;
  }

  /** Input i as integers (shape, axes, pads); refuses values that depend on the batch size. */
  intsInput(i: number, what: string): number[] {
    const c = this.constInput(i, what);
    return [...c.values].map((v) => {
      if (Number.isNaN(v)) this.fail(`${what} depends on the batch size, which is unknown here`);
      return v;
    });
  }

  /** A scalar (one-element) constant input, or null when omitted. */
  optionalScalar(i: number, what: string): number | null {
    const c = this.optionalConst(i, what);
    if (!c) return null;
    if (c.values.length !== 1)
      this.fail(`${what} must be a scalar, got shape [${c.dims.join(', ')}]`);
    return c.values[0];
  }

  /** The name of the initializer behind input i, when it is one (used as a tensor name). */
  inputName(i: number): string {
    return this.node.input[i] ?? '';
  }
}
