//! Native all-MiniLM-L6-v2 speed, for bench/text-encoder-speed.mjs: texts per second for
//! the first N spam-assassin subjects on one thread and on all cores (split between them).
//!
//!     cargo run --release --example text_encoder_speed -- [N]
//!
//! Prints one JSON line. The weight file is made by scripts/setup.

use std::time::Instant;

use marginalia::encoder::MiniLm;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(512);
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/weights/minilm-l6.i8.safetensors")).expect("weights/minilm-l6.i8.safetensors (scripts/setup makes it)");
    let net = MiniLm::from_bytes(&bytes).expect("weights");
    let tsv = include_str!("../datasets/spamassassin-subjects.tsv");
    let texts: Vec<&str> = tsv.lines().skip(1).filter_map(|l| l.split_once('\t').map(|(_, t)| t)).take(n).collect();
    let n = texts.len();
    let _ = net.embed(&texts[..8.min(n)]); // warm-up
    let t = Instant::now();
    for chunk in texts.chunks(32) {
        std::hint::black_box(net.embed(chunk));
    }
    let one = n as f64 / t.elapsed().as_secs_f64();
    let threads = std::thread::available_parallelism().map_or(1, |c| c.get());
    let t = Instant::now();
    std::thread::scope(|s| {
        for part in texts.chunks(n.div_ceil(threads)) {
            let net = &net;
            s.spawn(move || part.chunks(32).for_each(|c| drop(std::hint::black_box(net.embed(c)))));
        }
    });
    let all = n as f64 / t.elapsed().as_secs_f64();
    println!("{{\"n\":{n},\"per_second_1\":{one:.1},\"per_second_all\":{all:.1},\"threads\":{threads}}}");
}
