// relu: y[e] = x[e] > 0 ? x[e] : 0 for every element (as the reference kernel: -0 and NaN give +0).
// Bindings: 0 params {size} (uniform); 1 x: array<f32> (in); 2 y: array<f32> (out).
// Dispatch: one invocation per element, on a 2-D grid of WG-wide workgroups (x ≤ 65535).

struct Params {
  size: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = gid.x + gid.y * groups.x * WG;
  if (e >= params.size) {
    return;
  }
  // NOTE: select, not max(x, 0): max's NaN result is implementation-defined, the reference's is 0.
  y[e] = select(0.0, x[e], x[e] > 0.0);
}
