// max-pool2d: y[p, oy, ox] = max over the kernelSize² window at (oy·stride, ox·stride) of plane p = n·channels + c
// (NCHW, square window, no padding), and argmax[p, oy, ox] = the flat index into x of the first maximum in row-major
// window order (strict '>': ties keep the lowest index, as the reference), kept for max-pool2d-grad-input.
//   outHeight = (height − kernelSize) / stride + 1 (integer division), outWidth likewise.
// Bindings: 0 params {batch, channels, height, width, kernelSize, stride} (uniform); 1 x [batch, channels, height,
// width]: array<f32> (in); 2 y [batch, channels, outHeight, outWidth]: array<f32>, 3 argmax (same shape):
// array<u32> (out).
// Dispatch: one invocation per output element, on a 2-D grid of WG-wide workgroups.

struct Params {
  batch: u32,
  channels: u32,
  height: u32,
  width: u32,
  kernelSize: u32,
  stride: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> argmax: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let k = params.kernelSize;
  let outH = (params.height - k) / params.stride + 1u;
  let outW = (params.width - k) / params.stride + 1u;
  let e = gid.x + gid.y * groups.x * WG;
  if (e >= params.batch * params.channels * outH * outW) {
    return;
  }
  let ox = e % outW;
  let oy = (e / outW) % outH;
  let p = e / (outW * outH);
  let first = (p * params.height + oy * params.stride) * params.width + ox * params.stride;
  var best = first;
  for (var ky = 0u; ky < k; ky++) {
    for (var kx = 0u; kx < k; kx++) {
      let i = first + ky * params.width + kx;
      // NOTE: strict '>' — on ties the first (row-major) maximum wins, so the gradient goes there only. The best
      // value is re-read by index, never carried: compilers may turn a carried running max into fmax, whose result
      // for ±0 (and NaN) is unspecified (llvmpipe answered +0 for a window whose first maximum was −0).
      if (x[i] > x[best]) {
        best = i;
      }
    }
  }
  y[e] = x[best];
  argmax[e] = best;
}
