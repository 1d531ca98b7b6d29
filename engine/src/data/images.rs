//! Importing a folder of images: one subfolder per class, PNG or JPEG files in each.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::Dataset;
use crate::EngineError;

/// Grey (one channel) or colour (three).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColorMode {
    #[default]
    Grey,
    Rgb,
}

/// The most memory decoding one image may take (a 4000 x 4000 colour photo takes 64 MB).
const MAX_DECODED_BYTES: u64 = 96 << 20;

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["png", "jpg", "jpeg"].contains(&e.to_ascii_lowercase().as_str()))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, EngineError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        EngineError::Data(format!("{}: cannot be read as a folder ({e})", crate::files::brief_path(dir)))
    })?;
    let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    Ok(paths)
}

/// Reads `root/<class>/<image>` files, resized to `size` x `size`, as `[channels, size, size]`
/// with values in `[0, 1]`. Classes are the subfolder names in sorted order.
///
/// # Errors
/// A missing folder, no class subfolders, a class folder without images, or an image that cannot
/// be decoded: each names the folder or file.
pub fn import_image_folder(root: &Path, size: usize, color: ColorMode) -> Result<Dataset, EngineError> {
    if !root.is_dir() {
        return Err(EngineError::Data(format!(
            "{} is not a folder: choose a folder with one subfolder per class",
            crate::files::brief_path(root)
        )));
    }
    let size = size.clamp(1, 512);
    let class_dirs: Vec<PathBuf> = sorted_entries(root)?.into_iter().filter(|p| p.is_dir()).collect();
    if class_dirs.is_empty() {
        return Err(EngineError::Data(format!(
            "{} has no subfolders: put each class's images in a subfolder named after the class (for example cats/ and dogs/)",
            crate::files::brief_path(root)
        )));
    }
    let mut files: Vec<(PathBuf, usize)> = Vec::new();
    let mut classes = Vec::new();
    for (class, dir) in class_dirs.iter().enumerate() {
        let images: Vec<PathBuf> = sorted_entries(dir)?.into_iter().filter(|p| p.is_file() && is_image(p)).collect();
        if images.is_empty() {
            return Err(EngineError::Data(format!(
                "the class folder {} has no PNG or JPEG images: add some, or remove the folder",
                crate::files::brief_path(dir)
            )));
        }
        classes.push(dir.file_name().map_or_else(|| format!("class {class}"), |n| n.to_string_lossy().into_owned()));
        files.extend(images.into_iter().map(|p| (p, class)));
    }
    let side = u32::try_from(size).unwrap_or(512);
    let decoded: Result<Vec<Vec<f32>>, EngineError> = files
        .par_iter()
        .map(|(path, _)| {
            let unreadable = |e: &dyn std::fmt::Display| {
                EngineError::Data(format!(
                    "{} cannot be read as an image ({e}): replace or remove the file",
                    crate::files::brief_path(path)
                ))
            };
            // A small file can hold a huge picture: the decoder may take at most this much.
            let mut limits = image::Limits::default();
            limits.max_alloc = Some(MAX_DECODED_BYTES);
            let mut reader =
                image::ImageReader::open(path).and_then(image::ImageReader::with_guessed_format).map_err(|e| unreadable(&e))?;
            reader.limits(limits);
            let img = reader.decode().map_err(|e| match e {
                image::ImageError::Limits(_) => EngineError::Data(format!(
                    "{} is too large a picture to import (it would take more than {} to decode): shrink it first, for example to 1000 pixels a side",
                    crate::files::brief_path(path),
                    crate::memory::format_bytes(MAX_DECODED_BYTES as f64)
                )),
                other => unreadable(&other),
            })?;
            let img = img.resize_exact(side, side, image::imageops::FilterType::Triangle);
            Ok(match color {
                ColorMode::Grey => img.to_luma8().into_raw().into_iter().map(|b| f32::from(b) / 255.0).collect(),
                ColorMode::Rgb => {
                    // Interleaved RGB to channel-major [3, size, size].
                    let rgb = img.to_rgb8().into_raw();
                    (0..3)
                        .flat_map(|c| rgb.iter().skip(c).step_by(3).map(|&b| f32::from(b) / 255.0).collect::<Vec<_>>())
                        .collect()
                }
            })
        })
        .collect();
    let channels = match color {
        ColorMode::Grey => 1,
        ColorMode::Rgb => 3,
    };
    Ok(Dataset::classification(
        vec![channels, size, size],
        decoded?.concat(),
        files.iter().map(|(_, c)| *c).collect(),
        classes,
    ))
}
