//! The Rust EfficientNet-Lite0 against the numpy reference's fixtures
//! (bench/reference/efficientnet_lite0.py): same weight file, same decoded pixels, so the
//! embeddings agree to float rounding and the ImageNet top-1 is the same. Runs natively
//! and, unchanged, in both wasm builds (scalar and SIMD128; scripts/test-wasm.sh).

use marginalia::encoder::{EfficientNetLite0, Rgb8};
use serde_json::Value;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const WEIGHTS: &[u8] = include_bytes!("../weights/efficientnet-lite0.f16.safetensors");

fn fixtures() -> Value {
    serde_json::from_str(include_str!("fixtures/effnet/expected.json")).unwrap()
}

/// The decoded pixels of each fixture image (built in, so the wasm test has them too).
fn pixels(file: &str) -> Vec<u8> {
    let all: [(&str, &[u8]); 4] = [
        ("airplane-0000.32x32.rgb", include_bytes!("fixtures/effnet/airplane-0000.32x32.rgb")),
        ("cat-0003.32x32.rgb", include_bytes!("fixtures/effnet/cat-0003.32x32.rgb")),
        ("ship-0010.32x32.rgb", include_bytes!("fixtures/effnet/ship-0010.32x32.rgb")),
        ("grace-hopper.128x150.rgb", include_bytes!("fixtures/effnet/grace-hopper.128x150.rgb")),
    ];
    all.iter().find(|(name, _)| *name == file).map(|(_, b)| b.to_vec()).unwrap_or_else(|| panic!("no fixture {file}"))
}

#[test]
fn embeddings_and_top1_match_the_numpy_reference() {
    let net = EfficientNetLite0::from_bytes(WEIGHTS).unwrap();
    let fx = fixtures();
    let cases = fx["images"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let (w, h) = (case["width"].as_u64().unwrap() as usize, case["height"].as_u64().unwrap() as usize);
        let size = case["resolution"].as_u64().unwrap() as usize;
        let img = Rgb8::new(w, h, pixels(case["file"].as_str().unwrap())).unwrap();
        let got = net.embed(&img, size);
        let want: Vec<f32> = case["embedding"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
        let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst <= 1e-3 * scale, "{} at {size}px: max error {worst} against max |value| {scale}", case["file"]);
        let logits = net.classify(&got);
        let top1 = (0..logits.len()).max_by(|&a, &b| logits[a].total_cmp(&logits[b])).unwrap();
        assert_eq!(top1 as u64, case["top5"][0].as_u64().unwrap(), "{} at {size}px", case["file"]);
    }
}

#[test]
fn grace_hopper_is_a_military_uniform() {
    // ImageNet class 652 "military uniform": the sanity figure of the independent reference.
    let net = EfficientNetLite0::from_bytes(WEIGHTS).unwrap();
    let img = Rgb8::new(128, 150, pixels("grace-hopper.128x150.rgb")).unwrap();
    let logits = net.classify(&net.embed(&img, 224));
    let top1 = (0..logits.len()).max_by(|&a, &b| logits[a].total_cmp(&logits[b])).unwrap();
    assert_eq!(top1, 652);
}

#[test]
fn damaged_weight_files_are_refused_with_the_reason() {
    let err = |b: &[u8]| EfficientNetLite0::from_bytes(b).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err(b"not weights").contains("not a safetensors file"), "{}", err(b"not weights"));
    assert!(err(&WEIGHTS[..WEIGHTS.len() / 2]).contains("EfficientNet-Lite0 weights"));
    // A weight file of another network: the header's format entry names what it is.
    let mut other = WEIGHTS.to_vec();
    let at = other.windows(24).position(|w| w == b"marginalia-effnet-lite0/".as_slice()).unwrap();
    other[at + 11] = b'X';
    assert!(err(&other).contains("format"), "{}", err(&other));
}
