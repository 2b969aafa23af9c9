// requires: hash
// hashed-dense-grad-input: dx[n, i] = Σ_o dy[n, o]·V[o, i], the input gradient of hashed-dense, with the virtual
// weight V[o, i] = sign(o, i)·weight[bucket(o, i)] recomputed from the hash (no virtual matrix in memory).
// Bindings: 0 params {batch, inDim, outDim, buckets, seed} (uniform); 1 dy [batch, outDim], 2 weight [buckets]:
// array<f32> (in); 3 dx [batch, inDim]: array<f32> (out).
// Dispatch: one invocation per input element (batch·inDim), on a 2-D grid of WG-wide workgroups.

struct Params {
  batch: u32,
  inDim: u32,
  outDim: u32,
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
  let e = gid.x + gid.y * groups.x * WG;
  if (e >= params.batch * params.inDim) {
    return;
  }
  let n = e / params.inDim;
  let i = e % params.inDim;
  let dyRow = n * params.outDim;
  var acc = 0.0;
  for (var o = 0u; o < params.outDim; o++) {
    // Dense weight [out][in]: i = out, j = in (DESIGN section 3).
    let v = hashed_sign(o, i, params.seed) * weight[hashed_bucket(o, i, params.seed, params.buckets)];
    acc += dy[dyRow + o] * v;
  }
  dx[e] = acc;
}
