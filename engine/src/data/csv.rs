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

/// More distinct labels than this make a column of numbers to predict, not classes.
const MAX_CLASSES: usize = 1000;

fn fail(path: &Path, message: impl std::fmt::Display) -> EngineError {
    EngineError::Data(format!("{}: {message}", crate::files::brief_path(path)))
}

/// Reads a CSV file into a dataset. Classes are the label column's distinct values in sorted
/// order (numerically when they are all numbers). Rows become numbers as they are read (labels
/// are kept once each, as an index), so memory stays a few times the file's size.
///
/// # Errors
/// An empty file, ragged rows, a non-numeric feature cell, an empty label, an unknown label
/// column, a non-numeric regression label: each with file, line and column.
#[expect(clippy::too_many_lines, reason = "one pass over the rows reads best in one place")]
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
    let mut rows = reader.records().filter(|r| r.as_ref().map_or(true, |r| !r.iter().all(str::is_empty)));
    let not_csv = |e: &::csv::Error| {
        let line = e.position().map_or(0, ::csv::Position::line);
        fail(path, format!("line {line}: not valid CSV ({e}): check the quotes on that line"))
    };
    let first = match rows.next() {
        None => return Err(fail(path, "the file is empty: it needs rows of numbers with a label column")),
        Some(r) => r.map_err(|e| not_csv(&e))?,
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
    let label_name = if has_header { header_names[label_index].clone() } else { format!("column {label_index}") };
    let n_features = width - 1;
    let mut inputs = Vec::new();
    // Classification: each distinct label once, and each row's index into them.
    let mut distinct: BTreeMap<String, usize> = BTreeMap::new();
    let mut label_ids: Vec<usize> = Vec::new();
    // Regression: the numbers to predict.
    let mut values: Vec<f32> = Vec::new();
    let data_rows = std::iter::once(Ok(first.clone())).filter(|_| !has_header).chain(rows);
    let mut count = 0usize;
    for result in data_rows {
        let record = result.map_err(|e| not_csv(&e))?;
        let line = record.position().map_or(0, ::csv::Position::line);
        if record.len() != width {
            return Err(fail(
                path,
                format!("line {line} has {} cells but the first line has {width}: every row needs the same columns; fix or delete line {line}", record.len()),
            ));
        }
        for (col, cell) in record.iter().enumerate() {
            let name = || if has_header { format!(" ('{}')", brief(&header_names[col])) } else { String::new() };
            if col == label_index {
                if cell.is_empty() {
                    return Err(fail(
                        path,
                        format!("line {line}, column {}{} is empty: it is the label column, and every row needs a label; fill it in or delete the row", col + 1, name()),
                    ));
                }
                match options.task {
                    TaskKind::Regression => values.push(cell.parse::<f32>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                        fail(path, format!("line {line}, column {} ('{}') holds '{}': regression needs a number to predict; fix the cell or import as classification", label_index + 1, brief(&label_name), brief(cell)))
                    })?),
                    TaskKind::Classification => {
                        let next = distinct.len();
                        let id = *distinct.entry(cell.to_owned()).or_insert(next);
                        if distinct.len() > MAX_CLASSES {
                            return Err(fail(path, format!("the label column '{}' has more than {MAX_CLASSES} different values: that looks like a number to predict; import it as regression", brief(&label_name))));
                        }
                        label_ids.push(id);
                    }
                }
                continue;
            }
            let value = cell.parse::<f32>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                let what = if cell.is_empty() {
                    "is empty".to_owned()
                } else {
                    format!("holds '{}', which is not a number", brief(cell))
                };
                fail(
                    path,
                    format!(
                        "line {line}, column {}{} {what}: features must be numbers; fix the cell or delete the row",
                        col + 1,
                        name()
                    ),
                )
            })?;
            inputs.push(value);
        }
        count += 1;
    }
    if count == 0 {
        return Err(fail(path, "the file has a header but no rows of data"));
    }
    let mut data = match options.task {
        TaskKind::Regression => Dataset {
            shape: vec![n_features],
            inputs,
            targets: Targets::Values(values),
            targets_per_sample: 1,
            classes: Vec::new(),
            features: Vec::new(),
            vocab: None,
        },
        TaskKind::Classification => {
            // Classes in sorted order, numerically when every label is a number.
            let mut names: Vec<&String> = distinct.keys().collect();
            if names.iter().all(|d| d.parse::<f64>().is_ok()) {
                names.sort_by(|a, b| a.parse::<f64>().unwrap_or(0.0).total_cmp(&b.parse::<f64>().unwrap_or(0.0)));
            }
            let mut class_of_id = vec![0; distinct.len()];
            for (class, name) in names.iter().enumerate() {
                class_of_id[distinct[*name]] = class;
            }
            let labels = label_ids.iter().map(|&id| class_of_id[id]).collect();
            Dataset::classification(vec![n_features], inputs, labels, names.iter().map(|n| (*n).clone()).collect())
        }
    };
    data.features = features;
    Ok(data)
}
