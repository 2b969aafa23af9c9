// dense: y[n, o] = Σ_i x[n, i]·weight[o, i] + bias[o], x [batch, inDim], weight [outDim, inDim] (row-major).
// Bindings: 0 params {batch, inDim, outDim} (uniform); 1 x, 2 weight, 3 bias: array<f32> (in); 4 y: array<f32> (out).
// Dispatch: one invocation per output (batch·outDim), on a 2-D grid of WG-wide workgroups. Naive on purpose:
// on software adapters tiling with barriers is slower (STACK.md); a tiled variant is a later kernel.

struct Params {
  batch: u32,
  inDim: u32,
  outDim: u32,
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
  let wRow = o * params.inDim;
  var acc = 0.0;
  for (var i = 0u; i < params.inDim; i++) {
    acc += x[xRow + i] * weight[wRow + i];
  }
  y[e] = acc + bias[o];
}
