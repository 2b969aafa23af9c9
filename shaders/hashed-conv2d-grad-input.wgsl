// requires: hash
// hashed-conv2d-grad-input: conv2d-grad-input (see conv2d-grad-input.wgsl: the transposed convolution as a gather)
// with the HashedNets virtual weight V[o, ci, ky, kx] = sign(o, j)·weight[bucket(o, j)], j = (ci·kernelSize + ky)·
// kernelSize + kx, recomputed from the hash per use (no virtual weight in memory):
//   dx[n, ci, iy, ix] = Σ_{o, ky, kx} dy[n, o, oy, ox]·V[o, ci, ky, kx] over taps with oy·stride − padding + ky = iy,
//   ox·stride − padding + kx = ix.
// Bindings: 0 params {batch, inChannels, height, width, outChannels, kernelSize, stride, padding, buckets, seed}
// (uniform); 1 dy [batch, outChannels, outHeight, outWidth], 2 weight [buckets]: array<f32> (in); 3 dx [batch,
// inChannels, height, width]: array<f32> (out).
// Dispatch: one invocation per input element, on a 2-D grid of WG-wide workgroups.

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
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let k = params.kernelSize;
  let s = params.stride;
  let outH = (params.height + 2u * params.padding - k) / s + 1u;
  let outW = (params.width + 2u * params.padding - k) / s + 1u;
  let e = gid.x + gid.y * groups.x * WG;
  if (e >= params.batch * params.inChannels * params.height * params.width) {
    return;
  }
  let ix = e % params.width;
  let iy = (e / params.width) % params.height;
  let ci = (e / (params.width * params.height)) % params.inChannels;
  let n = e / (params.width * params.height * params.inChannels);
  // Padded coordinates iy + padding = oy·stride + ky (see conv2d-grad-input.wgsl).
  let py = iy + params.padding;
  let px = ix + params.padding;
  var acc = 0.0;
  for (var o = 0u; o < params.outChannels; o++) {
    let dyPlane = (n * params.outChannels + o) * outH;
    for (var ky = 0u; ky < k; ky++) {
      if (py < ky || (py - ky) % s != 0u || (py - ky) / s >= outH) {
        continue;
      }
      let dyRow = (dyPlane + (py - ky) / s) * outW;
      for (var kx = 0u; kx < k; kx++) {
        if (px < kx || (px - kx) % s != 0u || (px - kx) / s >= outW) {
          continue;
        }
        let j = (ci * k + ky) * k + kx;
        let v = hashed_sign(o, j, params.seed) * weight[hashed_bucket(o, j, params.seed, params.buckets)];
        acc += dy[dyRow + (px - kx) / s] * v;
      }
    }
  }
  dx[e] = acc;
}
