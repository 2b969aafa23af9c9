// requires: hash
// hashed-dense: y[n, o] = Σ_i x[n, i]·V[o, i] + bias[o] with the HashedNets virtual weight
//   V[o, i] = sign(o, i)·weight[bucket(o, i)], recomputed from the hash per use: no virtual matrix in memory.
// Bindings: 0 params {batch, inDim, outDim, buckets, seed} (uniform); 1 x [batch, inDim], 2 weight [buckets],
// 3 bias [outDim]: array<f32> (in); 4 y [batch, outDim]: array<f32> (out).
// Dispatch: one invocation per output (batch·outDim), on a 2-D grid of WG-wide workgroups.

struct Params {
  batch: u32,
  inDim: u32,
  outDim: u32,
  buckets: u32,
  seed: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = gid.x + gid.y * groups.x * WG;
  if (e >= params.batch * params.outDim) {
    return;
  }
  let n = e / params.outDim;
  let o = e % params.outDim;
  let xRow = n * params.inDim;
  var acc = 0.0;
  for (var i = 0u; i < params.inDim; i++) {
    // Dense weight [out][in]: i = out, j = in (DESIGN section 3).
    let v = hashed_sign(o, i, params.seed) * weight[hashed_bucket(o, i, params.seed, params.buckets)];
    acc += x[xRow + i] * v;
  }
  y[e] = acc + bias[o];
}
