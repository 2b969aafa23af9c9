// requires: rng
// rng-fill: the counter RNG of one stream for counters c = 0..count-1 (DESIGN section 3):
//   bits[c] = xxh32(c, stream, 0x9E3779B9);  uniforms[c] = (bits[c] >> 8)·2^-24;  normals[c] = normal(stream, c)
// Bindings: 0 params {count, stream} (uniform); 1 bits: array<u32>, 2 uniforms: array<f32>, 3 normals: array<f32> (out).
// Dispatch: one invocation per counter, on a 2-D grid of WG-wide workgroups (x ≤ 65535).

struct Params {
  count: u32,
  stream: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> bits: array<u32>;
@group(0) @binding(2) var<storage, read_write> uniforms: array<f32>;
@group(0) @binding(3) var<storage, read_write> normals: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let c = gid.x + gid.y * groups.x * WG;
  if (c >= params.count) {
    return;
  }
  bits[c] = rng_u32(params.stream, c);
  uniforms[c] = rng_uniform(params.stream, c);
  normals[c] = rng_normal(params.stream, c);
}
