// dense-grad-weight: dweight[o, i] = Σ_n dy[n, o]·x[n, i], the weight gradient of dense (dyᵀ·x), and
// dbias[o] = Σ_n dy[n, o]; x [batch, inDim], dy [batch, outDim], dweight [outDim, inDim] (row-major).
// Bindings: 0 params {batch, inDim, outDim} (uniform); 1 x, 2 dy: array<f32> (in); 3 dweight, 4 dbias:
// array<f32> (out).
// Dispatch: one invocation per weight (outDim·inDim), on a 2-D grid of WG-wide workgroups; the invocation with
// i = 0 of each row o also writes dbias[o].

struct Params {
  batch: u32,
  inDim: u32,
  outDim: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(4) var<storage, read_write> dbias: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = gid.x + gid.y * groups.x * WG;
  if (e >= params.outDim * params.inDim) {
    return;
  }
  let o = e / params.inDim;
  let i = e % params.inDim;
  var acc = 0.0;
  var accBias = 0.0;
  for (var n = 0u; n < params.batch; n++) {
    let g = dy[n * params.outDim + o];
    acc += g * x[n * params.inDim + i];
    accBias += g;
  }
  dweight[e] = acc;
  if (i == 0u) {
    dbias[o] = accBias;
  }
}
