// softmax: y[r, k] = exp(x[r, k] − m_r − lse_r) along the last axis of a [rows, cols] array, with m_r = max_k x[r, k]
// and lse_r = log Σ_k exp(x[r, k] − m_r): the max is subtracted first, so exp never overflows (as the reference).
// Bindings: 0 params {rows, cols} (uniform); 1 x [rows, cols]: array<f32> (in); 2 y [rows, cols]: array<f32> (out).
// Dispatch: one invocation per row (rows are short: logits), on a 2-D grid of WG-wide workgroups.

struct Params {
  rows: u32,
  cols: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = gid.x + gid.y * groups.x * WG;
  if (r >= params.rows) {
    return;
  }
  let off = r * params.cols;
  // The reference's running '>'. A compiler may lower it to fmax, harmless here: m = +0 or −0 can only flip the sign
  // of a zero result, and a NaN in the row makes the whole row NaN in both implementations.
  var m = x[off];
  for (var k = 1u; k < params.cols; k++) {
    if (x[off + k] > m) {
      m = x[off + k];
    }
  }
  var s = 0.0;
  for (var k = 0u; k < params.cols; k++) {
    s += exp(x[off + k] - m);
  }
  let lse = log(s);
  for (var k = 0u; k < params.cols; k++) {
    y[off + k] = exp(x[off + k] - m - lse);
  }
}
