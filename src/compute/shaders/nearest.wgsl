// Nearest centre per row, one thread per row: Σ (x − c)² over features for every centre,
// keeping the smallest and the first index reaching it (as cpu::nearest).
// `load_x` is prepended by the host, as for dense.wgsl.

struct Dims {
    n: u32,        // rows in this chunk
    d_in: u32,     // features
    m: u32,        // centres
    _unused: u32,
    x_scale: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(2) var<storage, read> centres: array<f32>;
@group(0) @binding(3) var<storage, read_write> best_dist: array<f32>;
@group(0) @binding(4) var<storage, read_write> best_index: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.x;
    if (row >= dims.n) {
        return;
    }
    // Start from centre 0 (the host guarantees m ≥ 1) rather than +∞, which WGSL constant
    // expressions cannot hold.
    var best = 0.0;
    for (var j = 0u; j < dims.d_in; j = j + 1u) {
        let d = load_x(row, j) - centres[j];
        best = best + d * d;
    }
    var arg = 0u;
    for (var c = 1u; c < dims.m; c = c + 1u) {
        var s = 0.0;
        for (var j = 0u; j < dims.d_in; j = j + 1u) {
            let d = load_x(row, j) - centres[c * dims.d_in + j];
            s = s + d * d;
        }
        if (s < best) {
            best = s;
            arg = c;
        }
    }
    best_dist[row] = best;
    best_index[row] = arg;
}
