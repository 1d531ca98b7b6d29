//! The IDX format of MNIST and Fashion-MNIST (gzip'd), as bundled in `assets/datasets/`.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::Dataset;
use crate::EngineError;

fn read_gz(path: &Path) -> Result<Vec<u8>, EngineError> {
    let file =
        std::fs::File::open(path).map_err(|e| EngineError::Data(format!("cannot open {}: {e}", path.display())))?;
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .map_err(|e| EngineError::Data(format!("{} is not a readable gzip file: {e}", path.display())))?;
    Ok(bytes)
}

fn header(bytes: &[u8], path: &Path, magic: u32, dims: usize) -> Result<Vec<usize>, EngineError> {
    let word = |i: usize| bytes.get(i * 4..i * 4 + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    if word(0) != Some(magic) {
        return Err(EngineError::Data(format!(
            "{} is not an IDX file of the expected kind (magic number {magic:#x})",
            path.display()
        )));
    }
    let sizes: Option<Vec<usize>> = (1..=dims).map(|i| word(i).map(|w| w as usize)).collect();
    let sizes = sizes.ok_or_else(|| EngineError::Data(format!("{} ends inside its header", path.display())))?;
    let want = 4 * (dims + 1) + sizes.iter().product::<usize>();
    if bytes.len() != want {
        return Err(EngineError::Data(format!(
            "{} should hold {want} bytes but holds {}",
            path.display(),
            bytes.len()
        )));
    }
    Ok(sizes)
}

/// Reads gzip'd IDX images, scaled to `[0, 1]`: returns `(count, rows, cols, values)`.
///
/// # Errors
/// When the file is missing, not gzip, or not an IDX image file.
pub fn load_idx_images(path: &Path) -> Result<(usize, usize, usize, Vec<f32>), EngineError> {
    let bytes = read_gz(path)?;
    let sizes = header(&bytes, path, 0x0803, 3)?;
    let values = bytes[16..].iter().map(|&b| f32::from(b) / 255.0).collect();
    Ok((sizes[0], sizes[1], sizes[2], values))
}

/// Reads gzip'd IDX labels.
///
/// # Errors
/// When the file is missing, not gzip, or not an IDX label file.
pub fn load_idx_labels(path: &Path) -> Result<Vec<usize>, EngineError> {
    let bytes = read_gz(path)?;
    header(&bytes, path, 0x0801, 1)?;
    Ok(bytes[8..].iter().map(|&b| usize::from(b)).collect())
}

/// MNIST (or Fashion-MNIST) from a folder holding the four IDX files.
#[derive(Clone, Debug)]
pub struct Mnist {
    pub train: Dataset,
    pub test: Dataset,
}

impl Mnist {
    /// Loads the train and test splits from `dir`, with the digit names as classes.
    ///
    /// # Errors
    /// When a file is missing or malformed, or images and labels disagree in count.
    pub fn load(dir: &Path) -> Result<Self, EngineError> {
        let split = |prefix: &str| -> Result<Dataset, EngineError> {
            let img: PathBuf = dir.join(format!("{prefix}-images-idx3-ubyte.gz"));
            let lab: PathBuf = dir.join(format!("{prefix}-labels-idx1-ubyte.gz"));
            let (n, rows, cols, inputs) = load_idx_images(&img)?;
            let labels = load_idx_labels(&lab)?;
            if labels.len() != n {
                return Err(EngineError::Data(format!(
                    "{} has {n} images but {} has {} labels",
                    img.display(),
                    lab.display(),
                    labels.len()
                )));
            }
            Ok(Dataset {
                shape: vec![1, rows, cols],
                inputs,
                labels,
                classes: (0..10).map(|d| d.to_string()).collect(),
            })
        };
        Ok(Self { train: split("train")?, test: split("t10k")? })
    }
}
