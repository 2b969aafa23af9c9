// max-pool2d-grad-input: dx[i] = Σ_{e : argmax[e] = i} dy[e], routing each output's gradient to the input element
// max-pool2d chose (its argmax output). A gather, not a scatter (WGSL has no float atomics): the invocation of input
// (p, iy, ix) visits the outputs whose windows contain it, oy ∈ [⌈(iy − kernelSize + 1) / stride⌉, ⌊iy / stride⌋] ∩
// [0, outHeight) (ox likewise), in ascending (oy, ox) order — the reference's order, so sums round identically.
// Bindings: 0 params {batch, channels, height, width, kernelSize, stride} (uniform); 1 dy [batch, channels,
// outHeight, outWidth]: array<f32>, 2 argmax (same shape): array<u32> (in); 3 dx [batch, channels, height, width]:
// array<f32> (out).
// Dispatch: one invocation per input element, on a 2-D grid of WG-wide workgroups.

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
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> argmax: array<u32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let k = params.kernelSize;
  let s = params.stride;
  let outH = (params.height - k) / s + 1u;
  let outW = (params.width - k) / s + 1u;
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.batch * params.channels * params.height * params.width) {
    return;
  }
  let ix = i % params.width;
  let iy = (i / params.width) % params.height;
  let p = i / (params.width * params.height);
  // Windows oy·s ≤ iy < oy·s + k; unsigned: the lower bound is 0 while iy + 1 ≤ k.
  let oy0 = select(0u, (iy + 1u - k + s - 1u) / s, iy + 1u > k);
  let oy1 = min(iy / s + 1u, outH);
  let ox0 = select(0u, (ix + 1u - k + s - 1u) / s, ix + 1u > k);
  let ox1 = min(ix / s + 1u, outW);
  var acc = 0.0;
  for (var oy = oy0; oy < oy1; oy++) {
    for (var ox = ox0; ox < ox1; ox++) {
      let e = (p * outH + oy) * outW + ox;
      if (argmax[e] == i) {
        acc += dy[e];
      }
    }
  }
  dx[i] = acc;
}
