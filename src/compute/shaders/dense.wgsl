// Dense layer y = act(x·w + b) over one chunk of rows, tiled: each 16×16 workgroup
// computes a 16-row × 16-column block of y, staging 16×16 tiles of x and w in workgroup
// memory so every global value is read once per tile rather than once per product.
//
// `load_x(row, col)` is prepended by the host (gpu.rs): it reads either f32 features or
// u8 features packed four per u32 word (pixels, a quarter of the memory), so one kernel
// serves both pool layouts and the hidden layers.

struct Dims {
    n: u32,        // rows in this chunk
    d_in: u32,
    d_out: u32,
    relu: u32,     // 1: ReLU, 2: ReLU6 (the image encoder), 0: identity
    x_scale: f32,  // u8 features: value = byte × x_scale
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

const TILE: u32 = 16u;
var<workgroup> tile_x: array<array<f32, 16>, 16>;
var<workgroup> tile_w: array<array<f32, 16>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let row = wg.y * TILE + lid.y;
    let col = wg.x * TILE + lid.x;
    var acc = 0.0;
    // The loop bound is uniform (a uniform buffer value), so the barriers inside are too.
    let n_tiles = (dims.d_in + TILE - 1u) / TILE;
    for (var t = 0u; t < n_tiles; t = t + 1u) {
        let kx = t * TILE + lid.x;
        var xv = 0.0;
        if (row < dims.n && kx < dims.d_in) {
            xv = load_x(row, kx);
        }
        tile_x[lid.y][lid.x] = xv;
        let kw = t * TILE + lid.y;
        var wv = 0.0;
        if (kw < dims.d_in && col < dims.d_out) {
            wv = w[kw * dims.d_out + col];
        }
        tile_w[lid.y][lid.x] = wv;
        workgroupBarrier();
        // Summed in k order, multiply then add, like the CPU kernel (drivers may still
        // fuse into FMA; the tests allow 1e-4 relative for that).
        for (var q = 0u; q < TILE; q = q + 1u) {
            acc = acc + tile_x[lid.y][q] * tile_w[q][lid.x];
        }
        workgroupBarrier();
    }
    if (row < dims.n && col < dims.d_out) {
        var v = acc + b[col];
        if (dims.relu == 1u) {
            v = max(v, 0.0);
        } else if (dims.relu == 2u) {
            v = clamp(v, 0.0, 6.0);
        }
        y[row * dims.d_out + col] = v;
    }
}
