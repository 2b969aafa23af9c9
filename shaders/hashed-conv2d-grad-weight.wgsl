// requires: hash
// hashed-conv2d-grad-weight: the HashedNets real-weight gradient of hashed-conv2d, dweight[k] = Σ_{(o, j) : bucket(o,
// j) = k} sign(o, j)·dV[o, j], j = (ci·kernelSize + ky)·kernelSize + kx, with dV the conv weight gradient
// dV[o, ci, ky, kx] = Σ_{n, oy, ox} dy[n, o, oy, ox]·x[n, ci, oy·stride − padding + ky, ox·stride − padding + kx]
// (taps inside the input), fused; and dbias[o] = Σ_{n, oy, ox} dy[n, o, oy, ox].
// NOTE: a gather (no float atomics in WGSL), as hashed-dense-grad-weight.wgsl: one invocation per bucket walks its
// entries e = o·(inChannels·kernelSize²) + j in `entries[offsets[k] .. offsets[k + 1])` (the host-built CSR inverse
// of the hash table, ascending e per bucket: the reference's scatter order). dV is never stored.
// Bindings: 0 params {batch, inChannels, height, width, outChannels, kernelSize, stride, padding, buckets, seed}
// (uniform); 1 x [batch, inChannels, height, width], 2 dy [batch, outChannels, outHeight, outWidth]: array<f32>,
// 3 offsets [buckets + 1], 4 entries [outChannels·inChannels·kernelSize²]: array<u32> (in); 5 dweight [buckets],
// 6 dbias [outChannels]: array<f32> (out).
// Dispatch: one invocation per bucket or bias entry (max(buckets, outChannels)), on a 2-D grid of WG-wide workgroups.

struct Params {
  batch: u32,
  inChannels: u32,
  height: u32,
  width: u32,
  outChannels: u32,
  kernelSize: u32,
  stride: u32,
  padding: u32,
  buckets: u32,
  seed: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read> entries: array<u32>;
@group(0) @binding(5) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(6) var<storage, read_write> dbias: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let k = params.kernelSize;
  let s = params.stride;
  let outH = (params.height + 2u * params.padding - k) / s + 1u;
  let outW = (params.width + 2u * params.padding - k) / s + 1u;
  let t = gid.x + gid.y * groups.x * WG;
  if (t < params.outChannels) {
    var accBias = 0.0;
    for (var n = 0u; n < params.batch; n++) {
      let plane = (n * params.outChannels + t) * outH * outW;
      for (var q = 0u; q < outH * outW; q++) {
        accBias += dy[plane + q];
      }
    }
    dbias[t] = accBias;
  }
  if (t >= params.buckets) {
    return;
  }
  let cols = params.inChannels * k * k;
  var acc = 0.0;
  for (var q = offsets[t]; q < offsets[t + 1u]; q++) {
    let o = entries[q] / cols;
    let j = entries[q] % cols;
    let kx = j % k;
    let ky = (j / k) % k;
    let ci = j / (k * k);
    var dv = 0.0;
    for (var n = 0u; n < params.batch; n++) {
      let dyPlane = (n * params.outChannels + o) * outH;
      let xPlane = (n * params.inChannels + ci) * params.height;
      for (var oy = 0u; oy < outH; oy++) {
        // Padded row oy·stride + ky is inside when padding ≤ it < height + padding (unsigned arithmetic).
        let py = oy * s + ky;
        if (py < params.padding || py - params.padding >= params.height) {
          continue;
        }
        let dyRow = (dyPlane + oy) * outW;
        let xRow = (xPlane + py - params.padding) * params.width;
        for (var ox = 0u; ox < outW; ox++) {
          let px = ox * s + kx;
          if (px < params.padding || px - params.padding >= params.width) {
            continue;
          }
          dv += dy[dyRow + ox] * x[xRow + px - params.padding];
        }
      }
    }
    acc += hashed_sign(o, j, params.seed) * dv;
  }
  dweight[t] = acc;
}
