// requires: hash
// hashed-dense-grad-weight: the HashedNets real-weight gradient dweight[k] = Σ_{(o, i) : bucket(o, i) = k}
// sign(o, i)·dV[o, i] with dV[o, i] = Σ_n dy[n, o]·x[n, i] (the dense weight gradient dyᵀ·x), fused, and
// dbias[o] = Σ_n dy[n, o].
// NOTE: a gather, not a scatter-add (WGSL has no float atomics): one invocation per bucket k walks the virtual-weight
// entries e = o·inDim + i of that bucket, listed bucket by bucket in `entries` (ascending e within a bucket) with
// bucket k at entries[offsets[k] .. offsets[k + 1]) — a CSR inverse of the hash table, built once per layer on the
// host (bucketEntries in src/backend/webgpu/bucket-entries.ts). dV is never stored; signs come from the hash.
// Ascending e per bucket is the reference's scatter order (hashScatter), so only dV's sums round differently.
// Bindings: 0 params {batch, inDim, outDim, buckets, seed} (uniform); 1 x [batch, inDim], 2 dy [batch, outDim]:
// array<f32>, 3 offsets [buckets + 1], 4 entries [outDim·inDim]: array<u32> (in); 5 dweight [buckets],
// 6 dbias [outDim]: array<f32> (out).
// Dispatch: one invocation per bucket or bias entry (max(buckets, outDim)), on a 2-D grid of WG-wide workgroups.

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
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read> entries: array<u32>;
@group(0) @binding(5) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(6) var<storage, read_write> dbias: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = gid.x + gid.y * groups.x * WG;
  if (t < params.outDim) {
    var accBias = 0.0;
    for (var n = 0u; n < params.batch; n++) {
      accBias += dy[n * params.outDim + t];
    }
    dbias[t] = accBias;
  }
  if (t >= params.buckets) {
    return;
  }
  var acc = 0.0;
  for (var q = offsets[t]; q < offsets[t + 1u]; q++) {
    let e = entries[q];
    let o = e / params.inDim;
    let i = e % params.inDim;
    var dv = 0.0;
    for (var n = 0u; n < params.batch; n++) {
      dv += dy[n * params.outDim + o] * x[n * params.inDim + i];
    }
    acc += hashed_sign(o, i, params.seed) * dv;
  }
  dweight[t] = acc;
}
