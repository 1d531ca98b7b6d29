//! Importing a CSV file: numeric feature columns and one label column.
//!
//! Every problem is an error that names the file, the line and column, what was wrong and what to
//! do. Importing builds a new dataset and touches nothing else, so a failed import leaves the
//! dataset in use as it was.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Dataset, Targets};
use crate::files::brief;
use crate::EngineError;

/// Which column holds the label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LabelColumn {
    /// By its header name.
    Name(String),
    /// By position, counting from 0.
    Index(usize),
    /// The last column.
    Last,
}

/// Classification (labels are classes) or regression (labels are numbers to predict).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskKind {
    #[default]
    Classification,
    Regression,
}

/// How to read a CSV file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvOptions {
    pub label: LabelColumn,
    /// Whether the first line names the columns; `None` guesses: a first line with a
    /// non-numeric cell in a feature column is a header.
    #[serde(default)]
    pub has_header: Option<bool>,
    #[serde(default)]
    pub task: TaskKind,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self { label: LabelColumn::Last, has_header: None, task: TaskKind::Classification }
    }
}

/// The column separator: of comma, semicolon, tab and bar, the one whose first line has at
/// least two columns and that splits most of the first lines into as many columns as the first
/// (then the most columns; commas win ties). An empty file gives a comma (and is refused later as
/// empty); `None` when no separator gives the first line two columns.
fn detect_delimiter(bytes: &[u8]) -> Option<u8> {
    const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
    const SAMPLE_LINES: usize = 20;
    let mut best: Option<((usize, usize), u8)> = None;
    let mut any_line = false;
    for &delimiter in &CANDIDATES {
        let mut reader =
            ::csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(bytes);
        let widths: Vec<usize> = reader
            .records()
            .map_while(Result::ok)
            .filter(|r| !r.iter().all(str::is_empty))
            .take(SAMPLE_LINES)
            .map(|r| r.len())
            .collect();
        any_line |= !widths.is_empty();
        let Some(&width) = widths.first() else { continue };
        let score = (widths.iter().filter(|&&w| w == width).count(), width);
        if width >= 2 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, delimiter));
        }
    }
    match best {
        Some((_, delimiter)) => Some(delimiter),
        None if !any_line => Some(b','),
        None => None,
    }
}

fn fail(path: &Path, message: impl std::fmt::Display) -> EngineError {
    EngineError::Data(format!("{}: {message}", path.display()))
}

/// Reads a CSV file into a dataset. Classes are the label column's distinct values in sorted
/// order (numerically when they are all numbers).
///
/// # Errors
/// An empty file, ragged rows, a non-numeric feature cell, an unknown label column, a non-numeric
/// regression label: each with file, line and column.
pub fn import_csv(path: &Path, options: &CsvOptions) -> Result<Dataset, EngineError> {
    let bytes = crate::files::read_file(path, "the CSV file")?;
    let delimiter = detect_delimiter(&bytes).ok_or_else(|| {
        fail(path, "every line has a single column (tried commas, semicolons, tabs and |): a CSV file needs feature columns and a label column, separated by commas")
    })?;
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .trim(::csv::Trim::All)
        .from_reader(bytes.as_slice());
    let mut records = Vec::new();
    for result in reader.records() {
        let record = result.map_err(|e| {
            let line = e.position().map_or(0, ::csv::Position::line);
            fail(path, format!("line {line}: not valid CSV ({e}): check the quotes on that line"))
        })?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        let line = record.position().map_or(0, ::csv::Position::line);
        records.push((line, record));
    }
    let Some((_, first)) = records.first() else {
        return Err(fail(path, "the file is empty: it needs rows of numbers with a label column"));
    };
    let width = first.len();
    let header_names: Vec<String> = first.iter().map(str::to_owned).collect();
    // Which column is the label, by index (the header may be needed to know).
    let label_by_name = |names: &[String], name: &str| names.iter().position(|h| h.eq_ignore_ascii_case(name));
    let label_index = match &options.label {
        LabelColumn::Last => width - 1,
        LabelColumn::Index(i) => {
            if *i >= width {
                return Err(fail(path, format!("there is no column {i} (the file has {width} columns, counted from 0): choose a column from 0 to {}", width - 1)));
            }
            *i
        }
        LabelColumn::Name(name) => label_by_name(&header_names, name).ok_or_else(|| {
            fail(
                path,
                format!(
                    "there is no column called '{}'; the first line has: {}. Choose one of these, or a column number",
                    brief(name),
                    brief(&header_names.join(", "))
                ),
            )
        })?,
    };
    let has_header = options.has_header.unwrap_or_else(|| {
        matches!(options.label, LabelColumn::Name(_))
            || first.iter().enumerate().any(|(i, c)| i != label_index && c.parse::<f32>().is_err())
    });
    let features: Vec<String> = if has_header {
        header_names.iter().enumerate().filter(|&(i, _)| i != label_index).map(|(_, h)| h.clone()).collect()
    } else {
        (0..width).filter(|&i| i != label_index).map(|i| format!("column {i}")).collect()
    };
    let rows = &records[usize::from(has_header)..];
    if rows.is_empty() {
        return Err(fail(path, "the file has a header but no rows of data"));
    }
    let n_features = width - 1;
    let mut inputs = Vec::with_capacity(rows.len() * n_features);
    let mut raw_labels: Vec<&str> = Vec::with_capacity(rows.len());
    for (line, record) in rows {
        if record.len() != width {
            return Err(fail(
                path,
                format!("line {line} has {} cells but the first line has {width}: every row needs the same columns; fix or delete line {line}", record.len()),
            ));
        }
        for (col, cell) in record.iter().enumerate() {
            if col == label_index {
                if cell.is_empty() {
                    let name = if has_header { format!(" ('{}')", brief(&header_names[col])) } else { String::new() };
                    return Err(fail(
                        path,
                        format!("line {line}, column {}{name} is empty: it is the label column, and every row needs a label; fill it in or delete the row", col + 1),
                    ));
                }
                raw_labels.push(cell);
                continue;
            }
            let value = cell.parse::<f32>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                let name = if has_header { format!(" ('{}')", brief(&header_names[col])) } else { String::new() };
                let what = if cell.is_empty() {
                    "is empty".to_owned()
                } else {
                    format!("holds '{}', which is not a number", brief(cell))
                };
                fail(
                    path,
                    format!(
                        "line {line}, column {}{name} {what}: features must be numbers; fix the cell or delete the row",
                        col + 1
                    ),
                )
            })?;
            inputs.push(value);
        }
    }
    let label_name = if has_header { header_names[label_index].clone() } else { format!("column {label_index}") };
    let mut data = match options.task {
        TaskKind::Regression => {
            let mut values = Vec::with_capacity(raw_labels.len());
            for ((line, _), cell) in rows.iter().zip(&raw_labels) {
                values.push(cell.parse::<f32>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                    fail(path, format!("line {line}, column {} ('{}') holds '{}': regression needs a number to predict; fix the cell or import as classification", label_index + 1, brief(&label_name), brief(cell)))
                })?);
            }
            Dataset {
                shape: vec![n_features],
                inputs,
                targets: Targets::Values(values),
                targets_per_sample: 1,
                classes: Vec::new(),
                features: Vec::new(),
                vocab: None,
            }
        }
        TaskKind::Classification => {
            let mut distinct: Vec<&str> = raw_labels.clone();
            distinct.sort_unstable();
            distinct.dedup();
            if distinct.iter().all(|d| d.parse::<f64>().is_ok()) {
                distinct.sort_by(|a, b| a.parse::<f64>().unwrap_or(0.0).total_cmp(&b.parse::<f64>().unwrap_or(0.0)));
            }
            if distinct.len() > 1000 {
                return Err(fail(path, format!("the label column '{}' has {} different values: that looks like a number to predict; import it as regression", brief(&label_name), distinct.len())));
            }
            let index: BTreeMap<&str, usize> = distinct.iter().enumerate().map(|(i, d)| (*d, i)).collect();
            let labels = raw_labels.iter().map(|l| index[l]).collect();
            Dataset::classification(
                vec![n_features],
                inputs,
                labels,
                distinct.iter().map(|d| (*d).to_owned()).collect(),
            )
        }
    };
    data.features = features;
    Ok(data)
}
