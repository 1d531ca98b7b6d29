//! The IDX format of MNIST and Fashion-MNIST (gzip'd).

use std::io::Read as _;

use crate::EngineError;

/// Unpacks gzip'd bytes; `what` names the file in the message.
pub(crate) fn gunzip(bytes: &[u8], what: &str) -> Result<Vec<u8>, EngineError> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| EngineError::Data(format!("{what} is not a readable gzip file ({e})")))?;
    Ok(out)
}

fn header(bytes: &[u8], what: &str, magic: u32, dims: usize) -> Result<Vec<usize>, EngineError> {
    let word = |i: usize| bytes.get(i * 4..i * 4 + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    if word(0) != Some(magic) {
        return Err(EngineError::Data(format!(
            "{what} is not an IDX file of the expected kind (magic number {magic:#x})"
        )));
    }
    let sizes: Option<Vec<usize>> = (1..=dims).map(|i| word(i).map(|w| w as usize)).collect();
    let sizes = sizes.ok_or_else(|| EngineError::Data(format!("{what} ends inside its header")))?;
    let want = 4 * (dims + 1) + sizes.iter().product::<usize>();
    if bytes.len() != want {
        return Err(EngineError::Data(format!("{what} should hold {want} bytes but holds {}", bytes.len())));
    }
    Ok(sizes)
}

/// Parses gzip'd IDX images, scaled to `[0, 1]`: returns `(count, rows, cols, values)`.
///
/// # Errors
/// When the bytes are not gzip or not an IDX image file.
pub fn parse_idx_images(gz: &[u8], what: &str) -> Result<(usize, usize, usize, Vec<f32>), EngineError> {
    let bytes = gunzip(gz, what)?;
    let sizes = header(&bytes, what, 0x0803, 3)?;
    // A lookup table turns each byte into its float with no division per pixel.
    let table: Vec<f32> = (0..=255u8).map(|b| f32::from(b) / 255.0).collect();
    let values = bytes[16..].iter().map(|&b| table[usize::from(b)]).collect();
    Ok((sizes[0], sizes[1], sizes[2], values))
}

/// Parses gzip'd IDX labels.
///
/// # Errors
/// When the bytes are not gzip or not an IDX label file.
pub fn parse_idx_labels(gz: &[u8], what: &str) -> Result<Vec<usize>, EngineError> {
    let bytes = gunzip(gz, what)?;
    header(&bytes, what, 0x0801, 1)?;
    Ok(bytes[8..].iter().map(|&b| usize::from(b)).collect())
}
