// The Tensor value: a shape plus a flat row-major typed array (NCHW for images).
// Float32Array is the runtime dtype; Float64Array is accepted so gradient checks can run in double precision.

/** Storage accepted by the reference kernels. */
export type TensorData = Float32Array | Float64Array;

/** An immutable-by-convention n-dimensional array. Kernels never write into their inputs. */
export class Tensor {
  readonly shape: readonly number[];
  readonly data: TensorData;

  constructor(shape: readonly number[], data: TensorData) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0)
        throw new Error(`Tensor: invalid dimension ${d} in shape [${shape.join(', ')}]`);
    }
    const size = sizeOf(shape);
    if (data.length !== size) {
      throw new Error(
        `Tensor: shape [${shape.join(', ')}] needs ${size} values, got ${data.length}`,
      );
    }
    this.shape = Object.freeze([...shape]);
    this.data = data;
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** 'f32' or 'f64', from the storage type. */
  get dtype(): DType {
    return this.data instanceof Float64Array ? 'f64' : 'f32';
  }

  /** Same storage, new shape (sizes must match). */
  reshape(shape: readonly number[]): Tensor {
    return new Tensor(shape, this.data);
  }

  /** Value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`Tensor.item: tensor has ${this.size} elements, not 1`);
    return this.data[0];
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}])`;
  }
}

export type DType = 'f32' | 'f64';

/** Product of the dimensions (1 for a scalar). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Allocates storage of the given dtype. */
export function alloc(dtype: DType, size: number): TensorData {
  return dtype === 'f64' ? new Float64Array(size) : new Float32Array(size);
}

export function zeros(shape: readonly number[], dtype: DType = 'f32'): Tensor {
  return new Tensor(shape, alloc(dtype, sizeOf(shape)));
}

export function full(shape: readonly number[], value: number, dtype: DType = 'f32'): Tensor {
  const t = zeros(shape, dtype);
  t.data.fill(value);
  return t;
}

/** Builds a tensor from numbers (copied), f32 unless asked otherwise. */
export function tensor(
  values: ArrayLike<number>,
  shape: readonly number[] = [values.length],
  dtype: DType = 'f32',
): Tensor {
  const data = alloc(dtype, values.length);
  data.set(values as ArrayLike<number>);
  return new Tensor(shape, data);
}

export function scalar(value: number, dtype: DType = 'f32'): Tensor {
  return tensor([value], [], dtype);
}

/** Deep copy, optionally converting dtype. */
export function clone(t: Tensor, dtype: DType = t.dtype): Tensor {
  const data = alloc(dtype, t.size);
  data.set(t.data);
  return new Tensor(t.shape, data);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
