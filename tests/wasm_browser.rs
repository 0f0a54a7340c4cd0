//! Runs in headless Chromium through wasm-bindgen-test (see scripts/test-wasm.sh): the
//! learner works compiled to wasm, and WebGPU is wired: an adapter is found and a compute
//! dispatch returns the right numbers (SwiftShader in CI).
#![cfg(target_arch = "wasm32")]

use marginalia::learner::Learner;
use ndarray::Array2;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn learner_trains_and_queries_in_wasm() {
    // Two well-separated groups along the first feature.
    let n = 40;
    let x = Array2::from_shape_fn((n, 3), |(i, j)| {
        let c = (i % 2) as f32;
        if j == 0 { c * 4.0 - 2.0 + (i as f32 * 0.13).sin() } else { (i as f32 * 0.7 + j as f32).cos() }
    });
    let mut l = Learner::new(x.clone(), 2, 3).unwrap();
    for i in 0..4 {
        l.teach(i, (i % 2) as u32).unwrap();
    }
    assert!(l.fit().unwrap());
    let q = l.query(5).unwrap();
    assert_eq!(q.len(), 5);
    assert!(q.iter().all(|q| q.index >= 4));
    let y: Vec<u32> = (0..n).map(|i| (i % 2) as u32).collect();
    let acc = l.accuracy(x.view(), &y).unwrap().unwrap();
    assert!(acc > 0.9, "accuracy {acc}");
}

/// A WGSL kernel that writes out[i] = a[i] * 2 + 1.
const SHADER: &str = r#"
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x < arrayLength(&a)) { out[id.x] = a[id.x] * 2.0 + 1.0; }
}
"#;

#[wasm_bindgen_test]
async fn webgpu_adapter_runs_a_compute_dispatch() {
    use wgpu::util::DeviceExt;
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
    let adapter = instance
        .request_adapter(&wgpu::RequestAdapterOptions::default())
        .await
        .expect("no WebGPU adapter: is Chromium started with --enable-unsafe-webgpu?");
    let (device, queue) = adapter.request_device(&wgpu::DeviceDescriptor::default()).await.expect("device");
    let input: Vec<f32> = (0..100).map(|i| i as f32 * 0.5).collect();
    let a = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("a"),
        contents: &input.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>(),
        usage: wgpu::BufferUsages::STORAGE,
    });
    let size = (input.len() * 4) as u64;
    let out = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("out"),
        size,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let staging = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("staging"),
        size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("smoke"),
        source: wgpu::ShaderSource::Wgsl(SHADER.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("smoke"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry { binding: 0, resource: a.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 1, resource: out.as_entire_binding() },
        ],
    });
    let mut enc = device.create_command_encoder(&Default::default());
    {
        let mut pass = enc.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups((input.len() as u32).div_ceil(64), 1, 1);
    }
    enc.copy_buffer_to_buffer(&out, 0, &staging, 0, size);
    queue.submit([enc.finish()]);
    // In the browser the map callback only runs once control returns to the event loop,
    // so await it through a channel instead of polling.
    let (tx, rx) = futures_channel::oneshot::channel();
    staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    rx.await.expect("map callback dropped").expect("map failed");
    let bytes = staging.slice(..).get_mapped_range().expect("mapped range").to_vec();
    let got: Vec<f32> = bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let want: Vec<f32> = input.iter().map(|v| v * 2.0 + 1.0).collect();
    assert_eq!(got, want);
}
