// conv2d-grad-input: dx[n, ci, iy, ix] = Σ_{o, ky, kx} dy[n, o, oy, ox]·weight[o, ci, ky, kx] over the taps with
// oy·stride − padding + ky = iy and ox·stride − padding + kx = ix (0 ≤ oy < outHeight, 0 ≤ ox < outWidth): the
// transposed convolution of conv2d.wgsl as a gather (one invocation per input element, no atomics).
// Bindings: 0 params {batch, inChannels, height, width, outChannels, kernelSize, stride, padding} (uniform);
// 1 dy [batch, outChannels, outHeight, outWidth], 2 weight [outChannels, inChannels, kernelSize, kernelSize]:
// array<f32> (in); 3 dx [batch, inChannels, height, width]: array<f32> (out).
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
  // Padded coordinates iy + padding = oy·stride + ky: a tap exists when ky ≤ it, stride divides the rest and
  // the quotient is an output row.
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
      let wRow = ((o * params.inChannels + ci) * k + ky) * k;
      for (var kx = 0u; kx < k; kx++) {
        if (px < kx || (px - kx) % s != 0u || (px - kx) / s >= outW) {
          continue;
        }
        acc += dy[dyRow + (px - kx) / s] * weight[wRow + kx];
      }
    }
  }
  dx[e] = acc;
}
