// Smoke test: doubles every value in place. Proves an adapter, a device, a pipeline and a
// readback all work before anything larger is tried.
@group(0) @binding(0) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if (gid.x < arrayLength(&v)) {
        v[gid.x] = v[gid.x] * 2.0;
    }
}
