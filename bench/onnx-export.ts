// Writes a Sequential model as an ONNX graph (opset 13), so the benchmark can run the same weights under
// onnxruntime-node. A minimal protobuf writer: only the ModelProto fields the graph needs. Hashed layers are
// exported with their virtual weights expanded (ONNX has no HashedNets op): the dense-equivalent network.
import type { LayerSpec } from '../src/nn/index.ts';
import type { Tensor } from '../src/tensor/index.ts';
import { virtualWeight } from '../src/nn/layers.ts';

class Writer {
  private bytes: number[] = [];
  varint(v: number | bigint): this {
    let x = BigInt(v);
    if (x < 0n) x += 1n << 64n;
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x > 0n) b |= 0x80;
      this.bytes.push(b);
    } while (x > 0n);
    return this;
  }
  key(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  int(field: number, v: number): this {
    return this.key(field, 0).varint(v);
  }
  bytesField(field: number, data: Uint8Array): this {
    this.key(field, 2).varint(data.length);
    for (const b of data) this.bytes.push(b);
    return this;
  }
  str(field: number, s: string): this {
    return this.bytesField(field, new TextEncoder().encode(s));
  }
  msg(field: number, w: Writer): this {
    return this.bytesField(field, w.done());
  }
  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

const FLOAT = 1;

function tensorProto(name: string, shape: readonly number[], data: Float32Array): Writer {
  const w = new Writer();
  for (const d of shape) w.int(1, d);
  w.int(2, FLOAT).str(8, name);
  return w.bytesField(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function valueInfo(name: string, dims: (number | string)[]): Writer {
  const shape = new Writer();
  for (const d of dims)
    shape.msg(1, typeof d === 'number' ? new Writer().int(1, d) : new Writer().str(2, d));
  const tensorType = new Writer().int(1, FLOAT).msg(2, shape);
  return new Writer().str(1, name).msg(2, new Writer().msg(1, tensorType));
}

const intAttr = (name: string, v: number) => new Writer().str(1, name).int(3, v).int(20, 2);
const intsAttr = (name: string, vs: number[]) => {
  const w = new Writer().str(1, name);
  for (const v of vs) w.int(8, v);
  return w.int(20, 7);
};

function node(op: string, inputs: string[], output: string, attrs: Writer[] = []): Writer {
  const w = new Writer();
  for (const i of inputs) w.str(1, i);
  w.str(2, output).str(3, output).str(4, op);
  for (const a of attrs) w.msg(5, a);
  return w;
}

/** ONNX bytes of the network: input "x" [N, ...inputShape] → output "logits" [N, classes]. */
export function exportOnnx(
  layers: readonly LayerSpec[],
  params: ReadonlyMap<string, Tensor>,
  inputShape: readonly number[],
  classes: number,
): Uint8Array {
  const graph = new Writer();
  const inits: Writer[] = [];
  let cur = 'x';
  layers.forEach((spec, i) => {
    const out = i === layers.length - 1 ? 'logits' : `h${i}`;
    switch (spec.type) {
      case 'flatten':
        graph.msg(1, node('Flatten', [cur], out, [intAttr('axis', 1)]));
        break;
      case 'relu':
        graph.msg(1, node('Relu', [cur], out));
        break;
      case 'maxpool2d':
      case 'avgpool2d':
        graph.msg(
          1,
          node(spec.type === 'maxpool2d' ? 'MaxPool' : 'AveragePool', [cur], out, [
            intsAttr('kernel_shape', [spec.kernelSize, spec.kernelSize]),
            intsAttr('strides', [spec.stride, spec.stride]),
          ]),
        );
        break;
      case 'dense':
      case 'hashed-dense':
      case 'conv2d':
      case 'hashed-conv2d': {
        const stored = params.get(spec.weight)!;
        const w =
          spec.type === 'hashed-dense' || spec.type === 'hashed-conv2d'
            ? virtualWeight(spec, stored)
            : stored;
        inits.push(tensorProto(spec.weight, w.shape, w.data as Float32Array));
        const b = params.get(spec.bias)!;
        inits.push(tensorProto(spec.bias, b.shape, b.data as Float32Array));
        if (spec.type === 'dense' || spec.type === 'hashed-dense') {
          graph.msg(1, node('Gemm', [cur, spec.weight, spec.bias], out, [intAttr('transB', 1)]));
        } else {
          const p = spec.padding;
          graph.msg(
            1,
            node('Conv', [cur, spec.weight, spec.bias], out, [
              intsAttr('kernel_shape', [spec.kernelSize, spec.kernelSize]),
              intsAttr('strides', [spec.stride, spec.stride]),
              intsAttr('pads', [p, p, p, p]),
            ]),
          );
        }
        break;
      }
    }
    cur = out;
  });
  graph.str(2, 'hashguard');
  for (const t of inits) graph.msg(5, t);
  graph.msg(11, valueInfo('x', ['N', ...inputShape]));
  graph.msg(12, valueInfo('logits', ['N', classes]));
  const model = new Writer()
    .int(1, 8)
    .str(2, 'hashguard')
    .msg(7, graph)
    .msg(8, new Writer().str(1, '').int(2, 13));
  return model.done();
}
