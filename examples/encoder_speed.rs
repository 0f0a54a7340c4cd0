//! Native EfficientNet-Lite0 speed, for bench/encoder-speed.mjs's wasm-to-native ratio:
//! ms per 224 px image on one thread and on all cores (images split between threads).
//!
//!     cargo run --release --example encoder_speed -- [N]
//!
//! Prints one JSON line.

use std::time::Instant;

use marginalia::encoder::{EfficientNetLite0, Rgb8};

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(32);
    let net = EfficientNetLite0::from_bytes(include_bytes!("../weights/efficientnet-lite0.f16.safetensors")).expect("weights");
    let hopper = include_bytes!("../tests/fixtures/effnet/grace-hopper.128x150.rgb");
    // n different 224 × 224 images: the photo, shifted by i rows (nearest neighbour).
    let images: Vec<Rgb8> = (0..n)
        .map(|i| {
            let mut px = Vec::with_capacity(224 * 224 * 3);
            for y in 0..224 {
                for x in 0..224 {
                    let (sy, sx) = (((y + i) % 224) * 150 / 224, x * 128 / 224);
                    px.extend_from_slice(&hopper[(sy * 128 + sx) * 3..][..3]);
                }
            }
            Rgb8::new(224, 224, px).expect("image")
        })
        .collect();
    let _ = net.embed(&images[0], 224); // warm-up
    let t = Instant::now();
    for img in &images {
        std::hint::black_box(net.embed(img, 224));
    }
    let one = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
    let threads = std::thread::available_parallelism().map_or(1, |c| c.get());
    let t = Instant::now();
    std::thread::scope(|s| {
        for part in images.chunks(n.div_ceil(threads)) {
            let net = &net;
            s.spawn(move || part.iter().for_each(|img| drop(std::hint::black_box(net.embed(img, 224)))));
        }
    });
    let all = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
    println!("{{\"n\":{n},\"ms_per_image_1\":{one:.2},\"ms_per_image_all\":{all:.2},\"threads\":{threads}}}");
}
