// bias-add: y[n, c, s] = x[n, c, s] + bias[c] for x [batch, channels, spatial] (NCHW: spatial = height·width;
// [N, C]: spatial = 1), i.e. y[e] = x[e] + bias[(e / spatial) mod channels].
// Bindings: 0 params {size, channels, spatial} (uniform); 1 x: array<f32>, 2 bias: array<f32> (in); 3 y: array<f32> (out).
// Dispatch: one invocation per element (size = batch·channels·spatial), on a 2-D grid of WG-wide workgroups.

struct Params {
  size: u32,
  channels: u32,
  spatial: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = gid.x + gid.y * groups.x * WG;
  if (e >= params.size) {
    return;
  }
  y[e] = x[e] + bias[(e / params.spatial) % params.channels];
}
