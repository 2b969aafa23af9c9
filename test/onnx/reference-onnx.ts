// Test oracle: a small float64 interpreter of ONNX semantics (Operators.md) for the ops the importer maps, written
// apart from src/onnx so an imported model's logits can be checked against what the graph itself computes.
import type { OnnxModel, OnnxNode, OnnxTensor } from '../../src/onnx/index.ts';

export interface Value {
  dims: number[];
  data: Float64Array;
}

const size = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);
const stridesOf = (d: readonly number[]) => d.map((_, i) => size(d.slice(i + 1)));

function tensorValue(t: OnnxTensor): Value {
  const d = t.data!;
  return {
    dims: [...t.dims],
    data:
      d instanceof BigInt64Array ? Float64Array.from(d, (v) => Number(v)) : Float64Array.from(d),
  };
}

function attr(n: OnnxNode, name: string) {
  return n.attribute.find((a) => a.name === name);
}
const aInt = (n: OnnxNode, name: string, d: number) => {
  const a = attr(n, name);
  return a?.i !== undefined ? Number(a.i) : d;
};
const aInts = (n: OnnxNode, name: string, d: number[]) => attr(n, name)?.ints?.map(Number) ?? d;
const aFloat = (n: OnnxNode, name: string, d: number) => attr(n, name)?.f ?? d;
const aStr = (n: OnnxNode, name: string, d: string) => {
  const s = attr(n, name)?.s;
  return s ? new TextDecoder().decode(s) : d;
};

function broadcast(a: Value, b: Value, f: (x: number, y: number) => number): Value {
  const r = Math.max(a.dims.length, b.dims.length);
  const pa = [...Array(r - a.dims.length).fill(1), ...a.dims];
  const pb = [...Array(r - b.dims.length).fill(1), ...b.dims];
  const dims = pa.map((d, i) => Math.max(d, pb[i]));
  const sa = stridesOf(pa),
    sb = stridesOf(pb),
    so = stridesOf(dims);
  const data = new Float64Array(size(dims));
  for (let o = 0; o < data.length; o++) {
    let ia = 0,
      ib = 0;
    for (let i = 0; i < r; i++) {
      const k = Math.floor(o / so[i]) % dims[i];
      if (pa[i] !== 1) ia += k * sa[i];
      if (pb[i] !== 1) ib += k * sb[i];
    }
    data[o] = f(a.data[ia], b.data[ib]);
  }
  return { dims, data };
}

const map = (x: Value, f: (v: number) => number): Value => ({ dims: x.dims, data: x.data.map(f) });

function conv(n: OnnxNode, x: Value, w: Value, b: Value | undefined): Value {
  const [N, C, H, W] = x.dims;
  const [M, , kh, kw] = w.dims;
  const [sh, sw] = aInts(n, 'strides', [1, 1]);
  const [dh, dw] = aInts(n, 'dilations', [1, 1]);
  let [pt, pl, pb, pr] = aInts(n, 'pads', [0, 0, 0, 0]);
  const auto = aStr(n, 'auto_pad', 'NOTSET');
  if (auto.startsWith('SAME')) {
    const th = Math.max((Math.ceil(H / sh) - 1) * sh + (kh - 1) * dh + 1 - H, 0);
    const tw = Math.max((Math.ceil(W / sw) - 1) * sw + (kw - 1) * dw + 1 - W, 0);
    [pt, pl] = auto === 'SAME_UPPER' ? [th >> 1, tw >> 1] : [th - (th >> 1), tw - (tw >> 1)];
    [pb, pr] = [th - pt, tw - pl];
  }
  const OH = Math.floor((H + pt + pb - (kh - 1) * dh - 1) / sh) + 1;
  const OW = Math.floor((W + pl + pr - (kw - 1) * dw - 1) / sw) + 1;
  const out = new Float64Array(N * M * OH * OW);
  for (let i = 0; i < N; i++)
    for (let m = 0; m < M; m++)
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          let s = b ? b.data[m] : 0;
          for (let c = 0; c < C; c++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const y = oy * sh - pt + ky * dh,
                  xx = ox * sw - pl + kx * dw;
                if (y < 0 || y >= H || xx < 0 || xx >= W) continue;
                s +=
                  x.data[((i * C + c) * H + y) * W + xx] *
                  w.data[((m * C + c) * kh + ky) * kw + kx];
              }
          out[((i * M + m) * OH + oy) * OW + ox] = s;
        }
  return { dims: [N, M, OH, OW], data: out };
}

function pool(n: OnnxNode, x: Value, max: boolean): Value {
  const [N, C, H, W] = x.dims;
  const [kh, kw] = aInts(n, 'kernel_shape', [1, 1]);
  const [sh, sw] = aInts(n, 'strides', [1, 1]);
  const [pt, pl, pb, pr] = aInts(n, 'pads', [0, 0, 0, 0]);
  const round = aInt(n, 'ceil_mode', 0) ? Math.ceil : Math.floor;
  const includePad = aInt(n, 'count_include_pad', 0) === 1;
  const OH = round((H + pt + pb - kh) / sh) + 1;
  const OW = round((W + pl + pr - kw) / sw) + 1;
  const out = new Float64Array(N * C * OH * OW);
  for (let p = 0; p < N * C; p++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        let acc = max ? -Infinity : 0,
          count = 0;
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            const y = oy * sh - pt + ky,
              xx = ox * sw - pl + kx;
            const inside = y >= 0 && y < H && xx >= 0 && xx < W;
            if (inside || includePad) count++;
            if (!inside) continue;
            const v = x.data[(p * H + y) * W + xx];
            acc = max ? Math.max(acc, v) : acc + v;
          }
        out[(p * OH + oy) * OW + ox] = max ? acc : acc / count;
      }
  return { dims: [N, C, OH, OW], data: out };
}

function transpose(x: Value, perm: number[]): Value {
  const dims = perm.map((p) => x.dims[p]);
  const si = stridesOf(x.dims),
    so = stridesOf(dims);
  const data = new Float64Array(x.data.length);
  for (let o = 0; o < data.length; o++) {
    let from = 0;
    for (let i = 0; i < dims.length; i++) from += (Math.floor(o / so[i]) % dims[i]) * si[perm[i]];
    data[o] = x.data[from];
  }
  return { dims, data };
}

function softmax(x: Value, log: boolean): Value {
  const [rows, k] = [x.dims[0], x.data.length / x.dims[0]];
  const data = new Float64Array(x.data.length);
  for (let r = 0; r < rows; r++) {
    const row = x.data.subarray(r * k, (r + 1) * k);
    const m = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
    row.forEach((v, j) => (data[r * k + j] = log ? v - m - Math.log(z) : Math.exp(v - m) / z));
  }
  return { dims: x.dims, data };
}

function pad(n: OnnxNode, x: Value, pads: number[], value: number): Value {
  const r = x.dims.length;
  const dims = x.dims.map((d, i) => d + pads[i] + pads[i + r]);
  const so = stridesOf(dims),
    si = stridesOf(x.dims);
  const data = new Float64Array(size(dims)).fill(value);
  for (let i = 0; i < x.data.length; i++) {
    let o = 0;
    for (let a = 0; a < r; a++) o += ((Math.floor(i / si[a]) % x.dims[a]) + pads[a]) * so[a];
    data[o] = x.data[i];
  }
  void n;
  return { dims, data };
}

/** Runs the graph on x (float64 throughout) and returns its output. */
export function runOnnx(m: OnnxModel, x: Value): Value {
  const opset = Math.max(...m.opsetImport.map((o) => o.version));
  const env = new Map<string, Value>();
  for (const t of m.graph.initializer) env.set(t.name, tensorValue(t));
  const inputName = m.graph.input.find((v) => !env.has(v.name))!.name;
  env.set(inputName, x);
  for (const n of m.graph.node) {
    const I = (i: number) => (n.input[i] ? env.get(n.input[i]) : undefined);
    const ints = (i: number) => [...I(i)!.data];
    const x0 = I(0)!;
    let y: Value;
    switch (n.opType) {
      case 'Conv':
        y = conv(n, x0, I(1)!, I(2));
        break;
      case 'Gemm': {
        let a = x0,
          b = I(1)!;
        if (aInt(n, 'transA', 0)) a = transpose(a, [1, 0]);
        if (aInt(n, 'transB', 0)) b = transpose(b, [1, 0]);
        const [M, K] = a.dims,
          Nn = b.dims[1];
        const prod = new Float64Array(M * Nn);
        for (let i = 0; i < M; i++)
          for (let j = 0; j < Nn; j++) {
            let s = 0;
            for (let k = 0; k < K; k++) s += a.data[i * K + k] * b.data[k * Nn + j];
            prod[i * Nn + j] = aFloat(n, 'alpha', 1) * s;
          }
        y = { dims: [M, Nn], data: prod };
        const c = I(2);
        if (c)
          y = broadcast(
            y,
            map(c, (v) => aFloat(n, 'beta', 1) * v),
            (p, q) => p + q,
          );
        break;
      }
      case 'MatMul': {
        const b = I(1)!;
        const [M, K] = x0.dims,
          Nn = b.dims[1];
        const prod = new Float64Array(M * Nn);
        for (let i = 0; i < M; i++)
          for (let j = 0; j < Nn; j++)
            for (let k = 0; k < K; k++) prod[i * Nn + j] += x0.data[i * K + k] * b.data[k * Nn + j];
        y = { dims: [M, Nn], data: prod };
        break;
      }
      case 'Add':
        y = broadcast(x0, I(1)!, (p, q) => p + q);
        break;
      case 'Sub':
        y = broadcast(x0, I(1)!, (p, q) => p - q);
        break;
      case 'Mul':
        y = broadcast(x0, I(1)!, (p, q) => p * q);
        break;
      case 'Div':
        y = broadcast(x0, I(1)!, (p, q) => p / q);
        break;
      case 'Relu':
        y = map(x0, (v) => Math.max(v, 0));
        break;
      case 'LeakyRelu': {
        const a = aFloat(n, 'alpha', 0.01);
        y = map(x0, (v) => (v >= 0 ? v : a * v));
        break;
      }
      case 'Sigmoid':
        y = map(x0, (v) => 1 / (1 + Math.exp(-v)));
        break;
      case 'Tanh':
        y = map(x0, Math.tanh);
        break;
      case 'Clip': {
        const lo = opset < 11 ? aFloat(n, 'min', -Infinity) : (I(1)?.data[0] ?? -Infinity);
        const hi = opset < 11 ? aFloat(n, 'max', Infinity) : (I(2)?.data[0] ?? Infinity);
        y = map(x0, (v) => Math.min(Math.max(v, lo), hi));
        break;
      }
      case 'MaxPool':
      case 'AveragePool':
        y = pool(n, x0, n.opType === 'MaxPool');
        break;
      case 'GlobalAveragePool':
      case 'GlobalMaxPool': {
        const [N, C, H, W] = x0.dims;
        const data = new Float64Array(N * C);
        for (let p = 0; p < N * C; p++) {
          const s = x0.data.subarray(p * H * W, (p + 1) * H * W);
          data[p] =
            n.opType === 'GlobalMaxPool' ? Math.max(...s) : s.reduce((a, b) => a + b, 0) / (H * W);
        }
        y = { dims: [N, C, 1, 1], data };
        break;
      }
      case 'Flatten': {
        const ax = aInt(n, 'axis', 1);
        const a = ax < 0 ? ax + x0.dims.length : ax;
        y = { dims: [size(x0.dims.slice(0, a)), size(x0.dims.slice(a))], data: x0.data };
        break;
      }
      case 'Reshape': {
        const t = ints(1).map((d, i) => (d === 0 ? x0.dims[i] : d));
        const known = size(t.filter((d) => d !== -1));
        y = { dims: t.map((d) => (d === -1 ? x0.data.length / known : d)), data: x0.data };
        break;
      }
      case 'Transpose':
        y = transpose(x0, aInts(n, 'perm', [...x0.dims.keys()].reverse()));
        break;
      case 'Squeeze':
      case 'Unsqueeze': {
        const axes = opset >= 13 ? (I(1) ? ints(1) : null) : aInts(n, 'axes', []);
        if (n.opType === 'Squeeze') {
          const ax = (axes ?? x0.dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) =>
            a < 0 ? a + x0.dims.length : a,
          );
          y = { dims: x0.dims.filter((_, i) => !ax.includes(i)), data: x0.data };
        } else {
          const r = x0.dims.length + axes!.length;
          const ax = axes!.map((a) => (a < 0 ? a + r : a));
          const dims: number[] = [];
          for (let i = 0, j = 0; i < r; i++) dims.push(ax.includes(i) ? 1 : x0.dims[j++]);
          y = { dims, data: x0.data };
        }
        break;
      }
      case 'BatchNormalization': {
        const [s, b, mean, v] = [1, 2, 3, 4].map((i) => I(i)!.data);
        const eps = aFloat(n, 'epsilon', 1e-5);
        const C = x0.dims[1],
          inner = size(x0.dims.slice(2));
        y = {
          dims: x0.dims,
          data: x0.data.map((val, i) => {
            const c = Math.floor(i / inner) % C;
            return (s[c] * (val - mean[c])) / Math.sqrt(v[c] + eps) + b[c];
          }),
        };
        break;
      }
      case 'Dropout':
      case 'Identity':
      case 'Cast':
        y = x0;
        break;
      case 'Constant':
        y = tensorValue(attr(n, 'value')!.t!);
        break;
      case 'Shape':
        y = { dims: [x0.dims.length], data: Float64Array.from(x0.dims) };
        break;
      case 'Gather': {
        const idx = I(1)!;
        const inner = size(x0.dims.slice(1));
        const data = new Float64Array(idx.data.length * inner);
        idx.data.forEach((j, k) =>
          data.set(x0.data.subarray(j * inner, (j + 1) * inner), k * inner),
        );
        y = { dims: [...idx.dims, ...x0.dims.slice(1)], data };
        break;
      }
      case 'Concat': {
        const parts = n.input.map((_, i) => I(i)!);
        y = {
          dims: [parts.reduce((s, p) => s + p.dims[0], 0)],
          data: Float64Array.from(parts.flatMap((p) => [...p.data])),
        };
        break;
      }
      case 'Pad': {
        const pads = opset < 11 ? aInts(n, 'pads', []) : ints(1);
        const value = opset < 11 ? aFloat(n, 'value', 0) : (I(2)?.data[0] ?? 0);
        y = pad(n, x0, pads, value);
        break;
      }
      case 'Softmax':
      case 'LogSoftmax':
        y = softmax(x0, n.opType === 'LogSoftmax');
        break;
      default:
        throw new Error(`reference interpreter: no ${n.opType}`);
    }
    env.set(n.output[0], y);
  }
  return env.get(m.graph.output[0].name)!;
}
