// x as f32, row-major n × d_in (pool features stored as f32, or a hidden layer).
@group(0) @binding(1) var<storage, read> x: array<f32>;

fn load_x(row: u32, col: u32) -> f32 {
    return x[row * dims.d_in + col];
}
