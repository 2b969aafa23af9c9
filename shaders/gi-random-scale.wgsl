// requires: rng, lerp
// gi-random-scale: the per-row logit scale of the `random` gradient-inhibition stage (Liu & Wen; DESIGN section
// 1.2), as randomLogitScales in src/defense/gradient-inhibition.ts:
//   scales[n] = fround(alphaMin + (alphaMax − alphaMin)·uniform(deriveStream(requestSeed, 'gisc'), n)),
//   y[n, o] = scales[n]·z[n, o]   (z: the last layer's logits W'x + bias, y: the logits the model answers with).
// Bit-identical to the reference: the same u32 draw, and lerp_exact rounds the formula once, as Math.fround does.
// NOTE: alphaMin/alphaMax arrive as f32, so identity needs bounds that are f32 values (the defaults 50 and 150
// are; a typed 0.1 is not). The reference evaluates in double, exact for such bounds whose exponents differ by ≤ 5
// (50 and 150 do); beyond that its double rounding could, in rare draws, land 1 ulp from the exact rounding.
// Bindings: 0 params {batch, outDim, requestSeed, alphaMin, alphaMax} (uniform); 1 z [batch, outDim]: array<f32>
// (in); 2 y [batch, outDim], 3 scales [batch]: array<f32> (out).
// Dispatch: one invocation per logit (batch·outDim), on a 2-D grid of WG-wide workgroups; o = 0 writes scales[n].

struct Params {
  batch: u32,
  outDim: u32,
  requestSeed: u32,
  alphaMin: f32,
  alphaMax: f32,
}

override WG: u32 = 64u;

// SCALE_TAG of gradient-inhibition.ts ('gisc').
const GI_SCALE_TAG: u32 = 0x67697363u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> scales: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = gid.x + gid.y * groups.x * WG;
  if (e >= params.batch * params.outDim) {
    return;
  }
  let n = e / params.outDim;
  // uniform(stream, n) = (u32 >> 8)·2^-24: lerp_exact takes the 24-bit integer itself.
  let stream = rng_derive_stream(params.requestSeed, GI_SCALE_TAG);
  let alpha = lerp_exact(params.alphaMin, params.alphaMax, rng_u32(stream, n) >> 8u);
  y[e] = alpha * z[e];
  if (e % params.outDim == 0u) {
    scales[n] = alpha;
  }
}
