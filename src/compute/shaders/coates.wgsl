// Coates & Ng feature extraction on the GPU, the same steps as compute/coates.rs:
// `patches` (one thread per image position): cut the w×w patch, normalize it
//   ((x − mean) / √(var + ε)), subtract the whitening mean, apply the ZCA matrix, and
//   store the whitened patch and its squared norm;
// (the host then runs dense.wgsl: whitened patches · centroidsᵀ)
// `triangle` (one thread per position): z_k = ‖x − c_k‖ from the dot products and norms,
//   f_k = max(0, mean(z) − z_k), written over the dot products;
// `pool` (one thread per image × quadrant × centroid): sum f over the quadrant.

struct Params {
    n_images: u32,
    width: u32,
    height: u32,
    side: u32,       // patch side (`patch` is reserved in WGSL)
    cols: u32,       // patch positions per row: width − patch + 1
    positions: u32,  // positions per image: rows × cols
    k: u32,          // centroids
    half_r: u32,     // first quadrant row boundary (rows rounded up / 2)
    half_c: u32,
    norm_eps: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> images: array<u32>;       // bytes, 4 per word
@group(0) @binding(2) var<storage, read> white_mean: array<f32>;   // dim
@group(0) @binding(3) var<storage, read> whiten: array<f32>;       // dim × dim
@group(0) @binding(4) var<storage, read_write> patches: array<f32>;// rows × dim
@group(0) @binding(5) var<storage, read_write> norms: array<f32>;  // rows
@group(0) @binding(6) var<storage, read> centroid_norms: array<f32>; // k
@group(0) @binding(7) var<storage, read_write> feats: array<f32>;  // rows × k
@group(0) @binding(8) var<storage, read_write> pooled: array<f32>; // images × 4k

// The host refuses patch sides above 8, so 64 values fit in function memory.
const MAX_DIM: u32 = 64u;

fn pixel(i: u32) -> f32 {
    return f32((images[i / 4u] >> ((i % 4u) * 8u)) & 0xffu);
}

@compute @workgroup_size(64)
fn cut_patches(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.x;
    if (row >= params.n_images * params.positions) {
        return;
    }
    let img = row / params.positions;
    let pos = row % params.positions;
    let r0 = pos / params.cols;
    let c0 = pos % params.cols;
    let w = params.side;
    let dim = w * w;
    let base = img * params.width * params.height;
    var v: array<f32, 64>;
    var mean = 0.0;
    for (var i = 0u; i < w; i = i + 1u) {
        for (var j = 0u; j < w; j = j + 1u) {
            let x = pixel(base + (r0 + i) * params.width + c0 + j);
            v[i * w + j] = x;
            mean = mean + x;
        }
    }
    mean = mean / f32(dim);
    var var_sum = 0.0;
    for (var t = 0u; t < dim; t = t + 1u) {
        var_sum = var_sum + (v[t] - mean) * (v[t] - mean);
    }
    let inv = 1.0 / sqrt(var_sum / f32(dim) + params.norm_eps);
    for (var t = 0u; t < dim; t = t + 1u) {
        v[t] = (v[t] - mean) * inv - white_mean[t];
    }
    var xx = 0.0;
    for (var t = 0u; t < dim; t = t + 1u) {
        var s = 0.0;
        for (var u = 0u; u < dim; u = u + 1u) {
            s = s + v[u] * whiten[u * dim + t];
        }
        patches[row * dim + t] = s;
        xx = xx + s * s;
    }
    norms[row] = xx;
}

@compute @workgroup_size(64)
fn triangle(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.x;
    if (row >= params.n_images * params.positions) {
        return;
    }
    let xx = norms[row];
    let base = row * params.k;
    var mu = 0.0;
    for (var j = 0u; j < params.k; j = j + 1u) {
        let z = sqrt(max(xx - 2.0 * feats[base + j] + centroid_norms[j], 0.0));
        feats[base + j] = z;
        mu = mu + z;
    }
    mu = mu / f32(params.k);
    for (var j = 0u; j < params.k; j = j + 1u) {
        feats[base + j] = max(mu - feats[base + j], 0.0);
    }
}

@compute @workgroup_size(64)
fn pool(@builtin(global_invocation_id) gid: vec3<u32>) {
    let id = gid.x;
    let k = params.k;
    if (id >= params.n_images * 4u * k) {
        return;
    }
    let img = id / (4u * k);
    let q = (id / k) % 4u;
    let j = id % k;
    let rows = params.positions / params.cols;
    let r_lo = select(0u, params.half_r, q >= 2u);
    let r_hi = select(params.half_r, rows, q >= 2u);
    let c_lo = select(0u, params.half_c, (q % 2u) == 1u);
    let c_hi = select(params.half_c, params.cols, (q % 2u) == 1u);
    var s = 0.0;
    for (var r = r_lo; r < r_hi; r = r + 1u) {
        for (var c = c_lo; c < c_hi; c = c + 1u) {
            s = s + feats[(img * params.positions + r * params.cols + c) * k + j];
        }
    }
    pooled[img * 4u * k + q * k + j] = s;
}
