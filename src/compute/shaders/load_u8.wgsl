// x as bytes packed little-endian four per u32 word, row-major n × d_in; value = byte ×
// x_scale. WGSL has no 8-bit storage type, hence the unpacking.
@group(0) @binding(1) var<storage, read> x: array<u32>;

fn load_x(row: u32, col: u32) -> f32 {
    let i = row * dims.d_in + col;
    let byte = (x[i / 4u] >> ((i % 4u) * 8u)) & 0xffu;
    return f32(byte) * dims.x_scale;
}
