//! Image datasets for the simulator: a folder with one subfolder of JPEG/PNG images per
//! class (`--format folder`), or IDX files, featurized as pixels, Coates features or
//! pretrained embeddings.

use std::path::Path;

use ndarray::Array2;

use crate::data::dataset::{Dataset, FeatureKind};
use crate::encoder::{self, EfficientNetLite0, Rgb8};
use crate::{Error, Result};

/// The EfficientNet-Lite0 weights, built into the simulator so it runs from any directory.
pub const EFFNET_WEIGHTS: &[u8] = include_bytes!("../../weights/efficientnet-lite0.f16.safetensors");

/// Labelled images: each image's class index, and the class names in index order.
pub struct Images {
    pub images: Vec<Rgb8>,
    pub labels: Vec<u32>,
    pub class_names: Vec<String>,
}

/// Reads `dir`: each subfolder is a class (sorted by name), each file in it an image
/// (sorted by name). Files that do not decode are skipped and named on stderr with the
/// reason; hidden files are ignored.
pub fn read_folder(dir: &str) -> Result<Images> {
    let io = |path: &Path, e: std::io::Error| Error::Io { path: path.display().to_string(), msg: e.to_string() };
    let root = Path::new(dir);
    let mut classes: Vec<_> = std::fs::read_dir(root)
        .map_err(|e| io(root, e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir() && !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    classes.sort();
    if classes.len() < 2 {
        return Err(Error::param("--data", format!("{dir} needs at least two subfolders (one per class), found {}", classes.len())));
    }
    let mut out = Images { images: Vec::new(), labels: Vec::new(), class_names: Vec::new() };
    let mut skipped = 0usize;
    for (c, class_dir) in classes.iter().enumerate() {
        out.class_names.push(class_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        let mut files: Vec<_> = std::fs::read_dir(class_dir)
            .map_err(|e| io(class_dir, e))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file() && !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect();
        files.sort();
        for f in files {
            match decode(&f) {
                Ok(img) => {
                    out.images.push(img);
                    out.labels.push(c as u32);
                }
                Err(reason) => {
                    skipped += 1;
                    eprintln!("marginalia-sim: skipped {}: {reason}", f.display());
                }
            }
        }
    }
    if skipped > 0 {
        eprintln!("marginalia-sim: {skipped} files skipped, {} images read", out.images.len());
    }
    if out.images.is_empty() {
        return Err(Error::Empty(format!("images in {dir}")));
    }
    Ok(out)
}

/// One image file to RGB (grey repeated over the channels; transparency over white, as
/// the app does).
fn decode(path: &Path) -> std::result::Result<Rgb8, String> {
    let img = image::ImageReader::open(path)
        .map_err(|e| e.to_string())?
        .with_guessed_format()
        .map_err(|e| e.to_string())?
        .decode()
        .map_err(|e| e.to_string())?;
    let rgba = img.to_rgba8();
    Rgb8::from_rgba(rgba.width() as usize, rgba.height() as usize, rgba.as_raw()).map_err(|e| e.to_string())
}

/// IDX grey images as RGB (the value repeated over the three channels).
pub fn from_idx_grey(pixels: &[u8], side_h: usize, side_w: usize, labels: Vec<u32>) -> Result<Images> {
    let per = side_h * side_w;
    let images = pixels.chunks_exact(per.max(1)).map(|g| Rgb8::new(side_w, side_h, g.iter().flat_map(|&v| [v, v, v]).collect())).collect::<Result<Vec<_>>>()?;
    let k = labels.iter().max().map_or(0, |&m| m as usize + 1);
    Ok(Images { images, labels, class_names: (0..k).map(|c| c.to_string()).collect() })
}

/// The images as a dataset of `kind` features (`Auto` resolved by
/// [`encoder::default_image_features`]); `size` overrides the encoder's input size.
pub fn dataset(imgs: Images, kind: FeatureKind, size: Option<usize>) -> Result<Dataset> {
    let (w, h) = (imgs.images[0].width, imgs.images[0].height);
    let colour = imgs.images.iter().any(|i| i.pixels.chunks_exact(3).any(|p| p[0] != p[1] || p[1] != p[2]));
    let kind = match kind {
        FeatureKind::Auto => encoder::default_image_features(w, h, colour),
        k => k,
    };
    // Pixels and Coates need one size; photos of mixed sizes are brought to the first's.
    let side = w.max(h).min(64);
    let same = |i: &Rgb8| if i.width == side && i.height == side { i.pixels.clone() } else { resize_u8(i, side) };
    match kind {
        FeatureKind::Pixels => {
            let d = side * side * if colour { 3 } else { 1 };
            let mut x = Array2::<f32>::zeros((imgs.images.len(), d));
            for (mut row, img) in x.rows_mut().into_iter().zip(&imgs.images) {
                let px = same(img);
                let vals: Vec<u8> = if colour { px } else { px.chunks_exact(3).map(|p| p[0]).collect() };
                row.iter_mut().zip(vals).for_each(|(x, v)| *x = v as f32 / 255.0);
            }
            Dataset::from_features(x, imgs.labels, imgs.class_names, FeatureKind::Pixels)
        }
        FeatureKind::Coates => {
            // ITU-R BT.601 luma, as the app's grey conversion.
            let grey = imgs.images.iter().flat_map(|i| same(i).chunks_exact(3).map(|p| (0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32).round() as u8).collect::<Vec<_>>()).collect();
            Dataset::from_grey_images(grey, side, imgs.labels, imgs.class_names)
        }
        FeatureKind::Pretrained => {
            let net = EfficientNetLite0::from_bytes(EFFNET_WEIGHTS)?;
            let size = size.unwrap_or_else(|| encoder::default_resolution(w, h));
            let x = embed_parallel(&net, &imgs.images, size);
            Dataset::from_features(x, imgs.labels, imgs.class_names, FeatureKind::Pretrained)
        }
        other => Err(Error::param("features", format!("{} features are for tables, not images", other.name()))),
    }
}

/// `img` resized to side × side RGB bytes (the encoder's resize, without its scaling).
fn resize_u8(img: &Rgb8, side: usize) -> Vec<u8> {
    img.to_network_input(side).iter().map(|v| (v * 128.0 + 127.0).round().clamp(0.0, 255.0) as u8).collect()
}

/// Embeddings of every image, on all cores (images are independent), stored as f16 as the
/// app stores them.
pub fn embed_parallel(net: &EfficientNetLite0, images: &[Rgb8], size: usize) -> Array2<f32> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(images.len().max(1));
    let chunk = images.len().div_ceil(threads);
    let mut x = Array2::<f32>::zeros((images.len(), encoder::efficientnet::DIM));
    let started = std::time::Instant::now();
    std::thread::scope(|s| {
        for (imgs, mut rows) in images.chunks(chunk.max(1)).zip(x.axis_chunks_iter_mut(ndarray::Axis(0), chunk.max(1))) {
            s.spawn(move || {
                for (img, mut row) in imgs.iter().zip(rows.rows_mut()) {
                    let e = encoder::round_f16(net.embed(img, size));
                    row.iter_mut().zip(e).for_each(|(x, v)| *x = v);
                }
            });
        }
    });
    let secs = started.elapsed().as_secs_f64();
    eprintln!("marginalia-sim: encoded {} images at {size}px with {} in {secs:.1} s on {threads} threads ({:.1} ms per image per thread)", images.len(), net.version(size), 1000.0 * secs * threads as f64 / images.len().max(1) as f64);
    x
}
