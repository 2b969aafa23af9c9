// conv2d-grad-weight: dweight[o, ci, ky, kx] = Σ_{n, oy, ox} dy[n, o, oy, ox]·x[n, ci, oy·stride − padding + ky,
// ox·stride − padding + kx] over taps inside the input (zero padding adds nothing), and
// dbias[o] = Σ_{n, oy, ox} dy[n, o, oy, ox].
// Bindings: 0 params {batch, inChannels, height, width, outChannels, kernelSize, stride, padding} (uniform);
// 1 x [batch, inChannels, height, width], 2 dy [batch, outChannels, outHeight, outWidth]: array<f32> (in);
// 3 dweight [outChannels, inChannels, kernelSize, kernelSize], 4 dbias [outChannels]: array<f32> (out).
// Dispatch: one invocation per weight, on a 2-D grid of WG-wide workgroups; the invocation of (o, 0, 0, 0) also
// writes dbias[o].

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
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(4) var<storage, read_write> dbias: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let k = params.kernelSize;
  let s = params.stride;
  let outH = (params.height + 2u * params.padding - k) / s + 1u;
  let outW = (params.width + 2u * params.padding - k) / s + 1u;
  let e = gid.x + gid.y * groups.x * WG;
  if (e >= params.outChannels * params.inChannels * k * k) {
    return;
  }
  let kx = e % k;
  let ky = (e / k) % k;
  let ci = (e / (k * k)) % params.inChannels;
  let o = e / (k * k * params.inChannels);
  var acc = 0.0;
  var accBias = 0.0;
  for (var n = 0u; n < params.batch; n++) {
    let dyPlane = (n * params.outChannels + o) * outH;
    let xPlane = (n * params.inChannels + ci) * params.height;
    for (var oy = 0u; oy < outH; oy++) {
      let dyRow = (dyPlane + oy) * outW;
      if (e % (params.inChannels * k * k) == 0u) {
        for (var ox = 0u; ox < outW; ox++) {
          accBias += dy[dyRow + ox];
        }
      }
      // Padded row oy·stride + ky is inside when padding ≤ it < height + padding (unsigned arithmetic).
      let py = oy * s + ky;
      if (py < params.padding || py - params.padding >= params.height) {
        continue;
      }
      let xRow = (xPlane + py - params.padding) * params.width;
      for (var ox = 0u; ox < outW; ox++) {
        let px = ox * s + kx;
        if (px < params.padding || px - params.padding >= params.width) {
          continue;
        }
        acc += dy[dyRow + ox] * x[xRow + px - params.padding];
      }
    }
  }
  dweight[e] = acc;
  if (e % (params.inChannels * k * k) == 0u) {
    dbias[o] = accBias;
  }
}
