// conv2d: y[n, o, oy, ox] = Σ_{ci, ky, kx} x[n, ci, oy·stride − padding + ky, ox·stride − padding + kx]·weight[o, ci, ky, kx]
//   + bias[o], NCHW, square kernel, zero padding (taps outside the input contribute nothing); no bias: pass zeros.
//   outHeight = (height + 2·padding − kernelSize) / stride + 1 (integer division), outWidth likewise; the host
//   checks the window fits (kernel-specs.ts) before dispatching.
// Bindings: 0 params {batch, inChannels, height, width, outChannels, kernelSize, stride, padding} (uniform);
// 1 x [batch, inChannels, height, width], 2 weight [outChannels, inChannels, kernelSize, kernelSize],
// 3 bias [outChannels]: array<f32> (in); 4 y [batch, outChannels, outHeight, outWidth]: array<f32> (out).
// Dispatch: one invocation per output element, on a 2-D grid of WG-wide workgroups.

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
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let k = params.kernelSize;
  let outH = (params.height + 2u * params.padding - k) / params.stride + 1u;
  let outW = (params.width + 2u * params.padding - k) / params.stride + 1u;
  let e = gid.x + gid.y * groups.x * WG;
  if (e >= params.batch * params.outChannels * outH * outW) {
    return;
  }
  let ox = e % outW;
  let oy = (e / outW) % outH;
  let o = (e / (outW * outH)) % params.outChannels;
  let n = e / (outW * outH * params.outChannels);
  var acc = 0.0;
  for (var ci = 0u; ci < params.inChannels; ci++) {
    let plane = (n * params.inChannels + ci) * params.height;
    for (var ky = 0u; ky < k; ky++) {
      // Padded row iy + padding, kept unsigned: the tap is inside when padding ≤ it < height + padding.
      let py = oy * params.stride + ky;
      if (py < params.padding || py - params.padding >= params.height) {
        continue;
      }
      let xRow = (plane + py - params.padding) * params.width;
      let wRow = ((o * params.inChannels + ci) * k + ky) * k;
      for (var kx = 0u; kx < k; kx++) {
        let px = ox * params.stride + kx;
        if (px < params.padding || px - params.padding >= params.width) {
          continue;
        }
        acc += x[xRow + px - params.padding] * weight[wRow + kx];
      }
    }
  }
  y[e] = acc + bias[o];
}
