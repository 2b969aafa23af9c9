// dense-grad-input: dx[n, i] = Σ_o dy[n, o]·weight[o, i], the input gradient of dense (dy·W), dy [batch, outDim],
// weight [outDim, inDim] (row-major), dx [batch, inDim].
// Bindings: 0 params {batch, inDim, outDim} (uniform); 1 dy, 2 weight: array<f32> (in); 3 dx: array<f32> (out).
// Dispatch: one invocation per input element (batch·inDim), on a 2-D grid of WG-wide workgroups.

struct Params {
  batch: u32,
  inDim: u32,
  outDim: u32,
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
    acc += dy[dyRow + o] * weight[o * params.inDim + i];
  }
  dx[e] = acc;
}
