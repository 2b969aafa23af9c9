// relu-grad-input: dx[e] = dy[e]·(x[e] > 0 ? 1 : 0), the reference's rule (NOTE: relu'(0) = 0; a NaN x passes
// nothing). A product, not a select, so signs and NaNs of dy propagate as in the reference (−dy·0 = −0).
// Bindings: 0 params {size} (uniform); 1 x, 2 dy: array<f32> (in); 3 dx: array<f32> (out).
// Dispatch: one invocation per element, on a 2-D grid of WG-wide workgroups.

struct Params {
  size: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = gid.x + gid.y * groups.x * WG;
  if (e >= params.size) {
    return;
  }
  dx[e] = dy[e] * select(0.0, 1.0, x[e] > 0.0);
}
