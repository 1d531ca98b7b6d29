//! A dataset as data: where it comes from and how it is prepared, as stored in a notebook.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::bundled::bundled_splits;
use super::pipeline::{split, Normalizer};
use super::{
    char_windows, import_csv, import_image_folder, sentiment, sequence_task, toy_2d, Bundled, ColorMode, CsvOptions,
    Dataset, DatasetInfo, Pattern2d, PipelineSpec, SequenceTask, Splits, TextSource,
};
use crate::{memory, EngineError};

/// Where the samples come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum DataSource {
    /// A labelled set shipped with Glassbox.
    Bundled { name: Bundled },
    /// A generated 2-D set.
    Toy2d {
        #[serde(flatten)]
        pattern: Pattern2d,
        #[serde(default = "default_points")]
        samples: usize,
        #[serde(default)]
        noise: f32,
        #[serde(default)]
        seed: u64,
    },
    /// A generated sequence task.
    Sequence {
        task: SequenceTask,
        #[serde(default = "default_length")]
        length: usize,
        #[serde(default = "default_vocab")]
        vocab: usize,
        #[serde(default = "default_sequences")]
        samples: usize,
        #[serde(default)]
        seed: u64,
    },
    /// Generated review sentences with negation.
    Sentiment {
        #[serde(default = "default_sequences")]
        samples: usize,
        #[serde(default)]
        seed: u64,
    },
    /// Character windows of a bundled text, for language models.
    CharWindows {
        text: TextSource,
        #[serde(default = "default_window")]
        window: usize,
        #[serde(default = "default_windows")]
        samples: usize,
        #[serde(default)]
        seed: u64,
    },
    /// A CSV file on disk.
    Csv {
        path: PathBuf,
        #[serde(default)]
        options: CsvOptions,
    },
    /// A folder of images, one subfolder per class.
    ImageFolder {
        path: PathBuf,
        #[serde(default = "default_image_size")]
        size: usize,
        #[serde(default)]
        color: ColorMode,
    },
}

fn default_points() -> usize {
    500
}
fn default_length() -> usize {
    6
}
fn default_vocab() -> usize {
    8
}
fn default_sequences() -> usize {
    2000
}
fn default_window() -> usize {
    8
}
fn default_windows() -> usize {
    20_000
}
fn default_image_size() -> usize {
    28
}

/// The most noise a 2-D set may have: far past the point where the pattern is lost.
const MAX_NOISE: f32 = 10.0;
/// The most clusters a blobs set may have: more cannot be told apart in the plane.
const MAX_BLOBS: usize = 100;
/// The most symbols a sequence task may use (the generator's own limit).
const MAX_VOCAB: usize = 100;
/// The largest side imported images are resized to.
const MAX_IMAGE_SIDE: usize = 512;
/// Upper bounds of the windows the bundled texts can give (Moby-Dick has about 1.2 million
/// characters; the first names about 68,000 characters with their end marks).
const MOBY_DICK_CHARS: f64 = 1.3e6;
const FIRST_NAME_WINDOWS: f64 = 7.0e4;

/// The images an image folder holds (what [`import_image_folder`] would read); 0 when it cannot
/// be listed (the import then says why).
fn count_images(root: &std::path::Path) -> f64 {
    let Ok(classes) = std::fs::read_dir(root) else { return 0.0 };
    classes
        .filter_map(Result::ok)
        .filter(|c| c.path().is_dir())
        .filter_map(|c| std::fs::read_dir(c.path()).ok())
        .map(|files| files.filter_map(Result::ok).filter(|f| f.path().is_file()).count() as f64)
        .sum()
}

/// A dataset spec: the source and the pipeline. Building it twice gives the same samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataSpec {
    pub source: DataSource,
    #[serde(default)]
    pub pipeline: PipelineSpec,
}

impl DataSpec {
    /// A spec with the default pipeline.
    #[must_use]
    pub fn new(source: DataSource) -> Self {
        Self { source, pipeline: PipelineSpec::default() }
    }

    /// Settings no dataset can be built from, as a message that names the setting and what to
    /// use instead. [`DataSpec::build`] checks them first.
    ///
    /// # Errors
    /// [`EngineError::Data`] naming the first bad setting.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |message: String| Err(EngineError::Data(message));
        let fraction = self.pipeline.test_fraction;
        if !(0.0..1.0).contains(&fraction) {
            return bad(format!(
                "the test share (pipeline.test_fraction) is {fraction}: use a fraction from 0 (no test split) up to, not including, 1, such as 0.2"
            ));
        }
        let too_few = |samples: usize| samples == 0;
        match &self.source {
            DataSource::Bundled { .. } => {}
            DataSource::Toy2d { pattern, samples, noise, .. } => {
                if too_few(*samples) {
                    return bad("the 2-D set has 0 samples: give it at least 2, such as 500".into());
                }
                if !(0.0..=MAX_NOISE).contains(noise) {
                    return bad(format!(
                        "the 2-D set's noise is {noise:e}: use a number from 0 to {MAX_NOISE} (0.5 is already very noisy)"
                    ));
                }
                if let Pattern2d::Blobs { classes } = pattern {
                    if !(2..=MAX_BLOBS).contains(classes) {
                        return bad(format!("the blobs have {classes} classes: use 2 to {MAX_BLOBS}"));
                    }
                }
            }
            DataSource::Sequence { task, samples, length, vocab, .. } => {
                if too_few(*samples) || *length == 0 {
                    return bad(format!(
                        "the sequence task has {samples} samples of length {length}: both need to be at least 1"
                    ));
                }
                if *task == SequenceTask::Addition && *length > 9 {
                    return bad(format!(
                        "the addition task adds numbers of {length} digits: use 1 to 9 digits (the sums must fit in 64 bits)"
                    ));
                }
                if !(2..=MAX_VOCAB).contains(vocab) {
                    return bad(format!("the sequence task has {vocab} symbols: use 2 to {MAX_VOCAB}"));
                }
            }
            DataSource::Sentiment { samples, .. } => {
                if too_few(*samples) {
                    return bad("the sentiment set has 0 sentences: give it at least 2, such as 2000".into());
                }
            }
            DataSource::CharWindows { window, samples, .. } => {
                if too_few(*samples) || *window == 0 {
                    return bad(format!(
                        "the text set has {samples} windows of {window} characters: both need to be at least 1"
                    ));
                }
            }
            DataSource::Csv { path, .. } => crate::files::check_regular_file(path, "the CSV file")?,
            DataSource::ImageFolder { path, size, .. } => {
                if *size == 0 || *size > MAX_IMAGE_SIDE {
                    return bad(format!(
                        "images are resized to {size} pixels a side: use 1 to {MAX_IMAGE_SIDE}, such as 28"
                    ));
                }
                crate::files::check_folder(path, "the image folder")?;
            }
        }
        Ok(())
    }

    /// About how many bytes building this dataset takes at its peak (the samples as generated or
    /// read, the two splits, and the targets), worked out without building it. Reads only file
    /// sizes and folder listings.
    #[must_use]
    pub fn estimate_bytes(&self) -> f64 {
        // Values are f32; class targets are usize. Generation, the whole set and its two splits
        // are alive together at the peak: three copies.
        let set = |samples: f64, values: f64, targets: f64| 3.0 * samples * (4.0 * values + 8.0 * targets);
        let n = |count: usize| count as f64;
        match &self.source {
            DataSource::Bundled { name } => match name {
                Bundled::Mnist | Bundled::FashionMnist => set(12_000.0, 784.0, 1.0),
                Bundled::Digits => set(1_797.0, 64.0, 1.0),
                Bundled::Iris | Bundled::Wine | Bundled::BreastCancer => set(600.0, 30.0, 1.0),
            },
            DataSource::Toy2d { pattern, samples, .. } => {
                let classes = match pattern {
                    Pattern2d::Blobs { classes } => n(*classes) * 48.0,
                    _ => 0.0,
                };
                // The generated points (x, y, target) come first.
                set(n(*samples), 2.0, 1.0) + 12.0 * n(*samples) + classes
            }
            DataSource::Sequence { task, length, samples, .. } => {
                let positions = match task {
                    SequenceTask::Addition => 2.0 * n((*length).min(9)) + 1.0,
                    _ => n(*length),
                };
                // Inputs are generated as usize ids first, then turned into f32.
                set(n(*samples), positions, positions) + 8.0 * n(*samples) * positions
            }
            DataSource::Sentiment { samples, .. } => set(n(*samples), 12.0, 1.0) + 96.0 * n(*samples),
            DataSource::CharWindows { text, window, samples, .. } => {
                let available = match text {
                    TextSource::MobyDick => MOBY_DICK_CHARS,
                    TextSource::FirstNames => FIRST_NAME_WINDOWS,
                };
                let windows = n(*samples).min(available);
                // Each window is a Vec<usize> before it becomes f32 values.
                set(windows, n(*window), 1.0) + windows * (8.0 * n(*window) + 32.0) + 8.0 * MOBY_DICK_CHARS
            }
            // The text, the numbers and labels, the splits, and a run's shuffled order: measured
            // at 10 times the file for the smallest rows ("1,0" lines, 100 MB: 1.0 GB peak).
            DataSource::Csv { path, .. } => std::fs::metadata(path).map_or(0.0, |m| 12.0 * m.len() as f64),
            DataSource::ImageFolder { path, size, color } => {
                let channels = match color {
                    ColorMode::Grey => 1.0,
                    ColorMode::Rgb => 3.0,
                };
                // Each decoding thread may hold one full-size picture (see the importer's cap).
                set(count_images(path), channels * n(*size) * n(*size), 1.0)
                    + rayon::current_num_threads() as f64 * 96.0 * 1024.0 * 1024.0
            }
        }
    }

    /// Builds the train and test splits: loads or generates, splits, then normalises both with
    /// statistics of the training split. Settings are checked and the memory it needs estimated
    /// first, so a dataset too large for the machine is a message, not an allocation.
    ///
    /// # Errors
    /// A bad setting, a dataset too large for this machine, or an imported file or folder that
    /// cannot be read (see [`import_csv`] and [`import_image_folder`]).
    pub fn build(&self) -> Result<Splits, EngineError> {
        let (mut splits, normalizer) = self.build_raw()?;
        normalizer.apply(&mut splits.train);
        normalizer.apply(&mut splits.test);
        Ok(splits)
    }

    /// The splits before normalisation, and the normalisation fitted on the training split (what
    /// [`DataSpec::build`] applies to both): for exporting the data and the pipeline apart.
    ///
    /// # Errors
    /// As [`DataSpec::build`].
    pub fn build_raw(&self) -> Result<(Splits, Normalizer), EngineError> {
        self.validate()?;
        memory::check(
            "this dataset",
            self.estimate_bytes(),
            "",
            "use fewer samples, a shorter sequence or window, or a smaller file",
        )?;
        let p = self.pipeline;
        let generated = |data: Dataset, info: DatasetInfo| {
            let (train, test) = split(&data, p.test_fraction, p.seed);
            Splits { train, test, info }
        };
        let imported = |data: Dataset, path: &PathBuf| {
            let info = DatasetInfo {
                title: path
                    .file_name()
                    .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned()),
                source: format!("Imported from {}", path.display()),
                license: "As the file's owner licenses it".into(),
                description: format!("{} samples of {} values.", data.len(), data.sample_len()),
            };
            generated(data, info)
        };
        let splits = match &self.source {
            DataSource::Bundled { name } => bundled_splits(*name, p.test_fraction, p.seed)?,
            DataSource::Toy2d { pattern, samples, noise, seed } => {
                let data = toy_2d(*pattern, *samples, *noise, *seed);
                let info = DatasetInfo {
                    title: format!("{pattern:?} (2-D)"),
                    source: "Generated by Glassbox from a seed (TensorFlow Playground's patterns)".into(),
                    license: "Generated data, no license needed".into(),
                    description: format!("{samples} points in the plane with noise {noise}."),
                };
                generated(data, info)
            }
            DataSource::Sequence { task, length, vocab, samples, seed } => {
                let (data, info) = sequence_task(*task, *length, *vocab, *samples, *seed);
                generated(data, info)
            }
            DataSource::Sentiment { samples, seed } => {
                let (data, info) = sentiment(*samples, *seed);
                generated(data, info)
            }
            DataSource::CharWindows { text, window, samples, seed } => {
                let (data, info) = char_windows(*text, *window, *samples, *seed)?;
                generated(data, info)
            }
            DataSource::Csv { path, options } => imported(import_csv(path, options)?, path),
            DataSource::ImageFolder { path, size, color } => imported(import_image_folder(path, *size, *color)?, path),
        };
        if splits.train.is_empty() {
            return Err(EngineError::Data(format!(
                "the dataset has {} samples and the test share {} leaves none for training: use a smaller test share (pipeline.test_fraction), or more samples",
                splits.test.len(),
                p.test_fraction
            )));
        }
        let normalizer = Normalizer::fit(&splits.train, p.normalization);
        Ok((splits, normalizer))
    }
}
