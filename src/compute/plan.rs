//! How GPU work is cut to fit a device's limits. Pure arithmetic on the numbers the adapter
//! reports, kept apart from `gpu` so native tests cover it.

use crate::{Error, Result};

/// Threads per side of the dense kernel's square workgroup (16 × 16 = 256 invocations, the
/// WebGPU default maximum, so it runs on every conforming adapter).
pub const DENSE_TILE: u32 = 16;
/// Threads per workgroup of the one-row-per-thread kernels (softmax, score, nearest).
pub const ROW_GROUP: u32 = 64;
/// Widest layer the GPU scratch is sized for. An MLP of 256 hidden units is well inside;
/// a wider model is refused with this number in the error (and runs on the CPU).
pub const MAX_WIDTH: usize = 1024;
/// Storage buffers the widest pipeline binds in one stage (Coates patch cutting: images,
/// mean, whitening matrix, patches, norms).
pub const STORAGE_BUFFERS_NEEDED: u32 = 5;

/// The adapter limits this crate depends on (a copy of the fields of `wgpu::Limits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceLimits {
    pub max_storage_buffer_binding_size: u64,
    pub max_buffer_size: u64,
    pub max_compute_workgroups_per_dimension: u32,
    pub max_compute_invocations_per_workgroup: u32,
    pub max_compute_workgroup_size_x: u32,
    pub max_compute_workgroup_size_y: u32,
    pub max_compute_workgroup_storage_size: u32,
    pub max_storage_buffers_per_shader_stage: u32,
}

impl DeviceLimits {
    /// WebGPU's guaranteed minimums (what every adapter offers at least).
    pub fn webgpu_defaults() -> DeviceLimits {
        DeviceLimits {
            max_storage_buffer_binding_size: 128 << 20,
            max_buffer_size: 256 << 20,
            max_compute_workgroups_per_dimension: 65535,
            max_compute_invocations_per_workgroup: 256,
            max_compute_workgroup_size_x: 256,
            max_compute_workgroup_size_y: 256,
            max_compute_workgroup_storage_size: 16384,
            max_storage_buffers_per_shader_stage: 8,
        }
    }

    /// Largest single storage binding we may create: both limits apply.
    pub fn max_binding(&self) -> u64 {
        self.max_storage_buffer_binding_size.min(self.max_buffer_size)
    }
}

/// Refuse an adapter that cannot run our kernels at all; the error names the limit, its
/// value and what we need, so a "tiny limits" adapter is a clear CPU fallback.
pub fn check_limits(l: &DeviceLimits) -> Result<()> {
    let need = |name: &str, have: u64, want: u64| -> Result<()> {
        if have < want {
            Err(Error::Gpu(format!("adapter limit {name} is {have}, need at least {want}")))
        } else {
            Ok(())
        }
    };
    let tile = DENSE_TILE as u64;
    need("max_compute_invocations_per_workgroup", l.max_compute_invocations_per_workgroup as u64, tile * tile)?;
    need("max_compute_workgroup_size_x", l.max_compute_workgroup_size_x as u64, tile.max(ROW_GROUP as u64))?;
    need("max_compute_workgroup_size_y", l.max_compute_workgroup_size_y as u64, tile)?;
    // Two f32 tiles of 16×16 in workgroup memory.
    need("max_compute_workgroup_storage_size", l.max_compute_workgroup_storage_size as u64, 2 * tile * tile * 4)?;
    need("max_storage_buffers_per_shader_stage", l.max_storage_buffers_per_shader_stage as u64, STORAGE_BUFFERS_NEEDED as u64)?;
    need("max_compute_workgroups_per_dimension", l.max_compute_workgroups_per_dimension as u64, 1)?;
    Ok(())
}

/// Rows per pool chunk on the GPU for `d` features of `value_bytes` each: the largest count
/// such that the chunk's features, its widest activation (MAX_WIDTH f32 per row) and every
/// dispatch over it fit the limits. `forced` (tests) lowers it to exercise chunking.
pub fn chunk_rows(d: usize, value_bytes: usize, l: &DeviceLimits, forced: Option<usize>) -> Result<usize> {
    check_limits(l)?;
    let binding = l.max_binding();
    // u8 rows are read as packed u32 words; a chunk is padded to a whole word.
    let row_bytes = (d * value_bytes) as u64;
    let act_bytes = (MAX_WIDTH.max(d) * 4) as u64;
    let by_features = binding.saturating_sub(4) / row_bytes.max(1);
    let by_activations = binding / act_bytes;
    let wg = l.max_compute_workgroups_per_dimension as u64;
    let by_dense_grid = wg * DENSE_TILE as u64;
    let by_row_grid = wg * ROW_GROUP as u64;
    let rows = by_features.min(by_activations).min(by_dense_grid).min(by_row_grid);
    if rows == 0 {
        return Err(Error::Gpu(format!(
            "one pool row needs {row_bytes} bytes of features and {act_bytes} of activations, \
             but max_storage_buffer_binding_size is {} and max_buffer_size {}",
            l.max_storage_buffer_binding_size, l.max_buffer_size
        )));
    }
    let rows = usize::try_from(rows).unwrap_or(usize::MAX);
    Ok(match forced {
        Some(f) if f >= 1 => rows.min(f),
        _ => rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limits_give_chunks_for_mnist_sized_rows() {
        let l = DeviceLimits::webgpu_defaults();
        // 128 MiB / (1024 f32 × 4 B) = 32768 rows: activations bind first.
        assert_eq!(chunk_rows(784, 1, &l, None).unwrap(), 32768);
        // f32 features of 784: activation width is still 1024 → 32768 rows.
        assert_eq!(chunk_rows(784, 4, &l, None).unwrap(), 32768);
        // Very wide f32 rows: features bind. 8192 × 4 = 32 KiB per row → 4095 rows (minus the pad word).
        assert_eq!(chunk_rows(8192, 4, &l, None).unwrap(), ((128u64 << 20) - 4) as usize / 32768);
        assert_eq!(chunk_rows(784, 1, &l, Some(100)).unwrap(), 100);
    }

    #[test]
    fn grid_limit_binds_when_small() {
        let l = DeviceLimits { max_compute_workgroups_per_dimension: 10, ..DeviceLimits::webgpu_defaults() };
        assert_eq!(chunk_rows(4, 4, &l, None).unwrap(), 160);
    }

    #[test]
    fn tiny_limits_are_clear_errors() {
        let l = DeviceLimits { max_compute_invocations_per_workgroup: 64, ..DeviceLimits::webgpu_defaults() };
        assert_eq!(
            check_limits(&l).unwrap_err(),
            Error::Gpu("adapter limit max_compute_invocations_per_workgroup is 64, need at least 256".into())
        );
        let l = DeviceLimits { max_storage_buffer_binding_size: 1000, ..DeviceLimits::webgpu_defaults() };
        let e = chunk_rows(784, 4, &l, None).unwrap_err();
        assert!(matches!(&e, Error::Gpu(m) if m.contains("3136 bytes") && m.contains("1000")), "{e}");
    }
}
