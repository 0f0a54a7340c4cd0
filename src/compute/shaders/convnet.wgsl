// The image encoder's convolutions (src/compute/gpu/encoder.rs), batched: activations of
// a chunk of images in (image, row, column, channel) order, f32. 1×1 convolutions run on
// dense.wgsl (pixels × channels times channels × filters); these are the rest. Each
// mirrors a CPU kernel in compute/conv.rs, which is the reference it is tested against.
//
// Padding is TensorFlow's "same": `top`/`left` are the padding before; taps outside the
// image count as zero. One invocation per output value; the grid may be two-dimensional
// (more than 65,535 workgroups), so the index folds both axes.

struct Conv {
    total: u32,  // output values in the chunk
    h: u32,      // input height
    w: u32,      // input width
    c_in: u32,
    oh: u32,
    ow: u32,
    c_out: u32,  // == c_in for depthwise
    k: u32,
    s: u32,
    top: u32,
    left: u32,
    act: u32,    // 0: none, 2: ReLU6
}

@group(0) @binding(0) var<uniform> p: Conv;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

const GROUP: u32 = 64u;

fn index(wg: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
    return (wg.y * nwg.x + wg.x) * GROUP + lid.x;
}

fn activate(v: f32) -> f32 {
    if (p.act == 2u) {
        return clamp(v, 0.0, 6.0);
    }
    return v;
}

// Dense k×k convolution (the stem): weights in (dy, dx, c_in) × c_out order.
@compute @workgroup_size(64)
fn dense_conv(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = index(wg, nwg, lid);
    if (i >= p.total) {
        return;
    }
    let co = i % p.c_out;
    let ox = (i / p.c_out) % p.ow;
    let oy = (i / (p.c_out * p.ow)) % p.oh;
    let img = i / (p.c_out * p.ow * p.oh);
    var acc = 0.0;
    for (var dy = 0u; dy < p.k; dy = dy + 1u) {
        let iy = i32(oy * p.s + dy) - i32(p.top);
        if (iy < 0 || iy >= i32(p.h)) {
            continue;
        }
        for (var dx = 0u; dx < p.k; dx = dx + 1u) {
            let ix = i32(ox * p.s + dx) - i32(p.left);
            if (ix < 0 || ix >= i32(p.w)) {
                continue;
            }
            let src = ((img * p.h + u32(iy)) * p.w + u32(ix)) * p.c_in;
            let row = (dy * p.k + dx) * p.c_in;
            for (var ci = 0u; ci < p.c_in; ci = ci + 1u) {
                acc = acc + x[src + ci] * wt[(row + ci) * p.c_out + co];
            }
        }
    }
    y[i] = activate(acc + bias[co]);
}

// Depthwise k×k convolution: one filter per channel, weights in (dy, dx, c) order.
@compute @workgroup_size(64)
fn depthwise(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = index(wg, nwg, lid);
    if (i >= p.total) {
        return;
    }
    let c = i % p.c_out;
    let ox = (i / p.c_out) % p.ow;
    let oy = (i / (p.c_out * p.ow)) % p.oh;
    let img = i / (p.c_out * p.ow * p.oh);
    var acc = bias[c];
    for (var dy = 0u; dy < p.k; dy = dy + 1u) {
        let iy = i32(oy * p.s + dy) - i32(p.top);
        if (iy < 0 || iy >= i32(p.h)) {
            continue;
        }
        for (var dx = 0u; dx < p.k; dx = dx + 1u) {
            let ix = i32(ox * p.s + dx) - i32(p.left);
            if (ix < 0 || ix >= i32(p.w)) {
                continue;
            }
            acc = acc + x[((img * p.h + u32(iy)) * p.w + u32(ix)) * p.c_out + c] * wt[(dy * p.k + dx) * p.c_out + c];
        }
    }
    y[i] = activate(acc);
}

// y += x elementwise (the residual connection), `total` values.
@compute @workgroup_size(64)
fn add(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = index(wg, nwg, lid);
    if (i < p.total) {
        y[i] = y[i] + x[i];
    }
}

// Mean over each image's h·w pixels: y[img][c], `total` = images × c_in.
@compute @workgroup_size(64)
fn mean_pool(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = index(wg, nwg, lid);
    if (i >= p.total) {
        return;
    }
    let c = i % p.c_in;
    let img = i / p.c_in;
    let n = p.h * p.w;
    var acc = 0.0;
    for (var q = 0u; q < n; q = q + 1u) {
        acc = acc + x[(img * n + q) * p.c_in + c];
    }
    y[i] = acc / f32(n);
}
