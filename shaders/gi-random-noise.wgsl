// requires: rng
// gi-random-noise: the last layer's weight noise of the `random` gradient-inhibition stage, as noisyLastLayer in
// src/defense/gradient-inhibition.ts: for every stored weight k (a dense weight's [outDim·inDim] entries, or a
// hashed layer's K real weights, so the virtual weight is rebuilt from noisy real weights),
//   y[k] = weight[k]·(1 + noise·normal(deriveStream(requestSeed, 'ginz'), k)),
// one draw per request, shared by its rows. Same stream and counters as the reference; normals agree within
// tolerance (WGSL log/cos precision is implementation-defined), so y does too. noise = 0 gives y = weight exactly.
// Bindings: 0 params {size, requestSeed, noise} (uniform); 1 weight [size]: array<f32> (in); 2 y [size]:
// array<f32> (out).
// Dispatch: one invocation per weight, on a 2-D grid of WG-wide workgroups.

struct Params {
  size: u32,
  requestSeed: u32,
  noise: f32,
}

override WG: u32 = 64u;

// NOISE_TAG of gradient-inhibition.ts ('ginz').
const GI_NOISE_TAG: u32 = 0x67696E7Au;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let k = gid.x + gid.y * groups.x * WG;
  if (k >= params.size) {
    return;
  }
  let stream = rng_derive_stream(params.requestSeed, GI_NOISE_TAG);
  y[k] = weight[k] * (1.0 + params.noise * rng_normal(stream, k));
}
