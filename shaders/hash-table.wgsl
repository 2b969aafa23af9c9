// requires: hash
// hash-table: the HashedNets index table of a [rows, cols] virtual weight, entry e = i·cols + j:
//   bucket[e] = xxh32(i, j, seed) mod buckets;   sign[e] = 1 − 2·(xxh32(i, j, seed ^ 0x2545F491) & 1)
// Bindings: 0 params {rows, cols, seed, buckets} (uniform); 1 bucket: array<u32> (out); 2 sign: array<f32> (out).
// Dispatch: one invocation per entry (rows·cols), on a 2-D grid of WG-wide workgroups (x ≤ 65535).

struct Params {
  rows: u32,
  cols: u32,
  seed: u32,
  buckets: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> bucket: array<u32>;
@group(0) @binding(2) var<storage, read_write> sign: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  // The grid may wrap into y when one dimension of workgroups is not enough.
  let e = gid.x + gid.y * groups.x * WG;
  if (e >= params.rows * params.cols) {
    return;
  }
  let i = e / params.cols;
  let j = e % params.cols;
  bucket[e] = hashed_bucket(i, j, params.seed, params.buckets);
  sign[e] = hashed_sign(i, j, params.seed);
}
