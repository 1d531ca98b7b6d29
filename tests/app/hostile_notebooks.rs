//! A property test over hostile notebook files: mutations of the example notebooks (deleted
//! keys, values of the wrong type, huge, negative and zero numbers, junk strings, other datasets,
//! truncation, invalid UTF-8) run through `glassbox train --steps 2`, the same function the
//! command line calls. Each must end with exit code 0, 1 or 2 and a one-line message: never a
//! panic, and never more memory than a set amount (the engine refuses sizes past a limit this
//! test sets low, and the process's peak is checked at the end).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use glassbox::cli::{self, Cmd, TrainArgs};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{json, Value};

/// What one dataset or model may take in this test (the machine's limit is far higher).
const MEMORY_LIMIT: u64 = 1 << 30;
/// The whole test process may not go past this (other tests run beside this one).
const PROCESS_PEAK_LIMIT_KB: u64 = 3 << 20;

const EXAMPLES: [&str; 3] = ["spiral-mlp.json", "compare-optimizers.json", "mnist-lenet.json"];

fn example(index: usize) -> Value {
    let path = glassbox::assets_path("assets/notebooks").join(EXAMPLES[index % EXAMPLES.len()]);
    serde_json::from_str(&std::fs::read_to_string(path).expect("example readable")).expect("example is JSON")
}

/// Every place in the document: a path of keys and indices.
fn places(value: &Value, path: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(path.clone());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                path.push(Value::String(key.clone()));
                places(child, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push(json!(i));
                places(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(value: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |v, step| match step {
        Value::String(key) => v.get_mut(key.as_str()),
        Value::Number(i) => v.get_mut(usize::try_from(i.as_u64()?).ok()?),
        _ => None,
    })
}

/// Values a hostile user types: wrong types, zero, negative, huge, tiny, junk.
fn odd_value(pick: usize) -> Value {
    let junk = "ü\u{0}\"{[".repeat(3);
    let values = [
        json!(0),
        json!(-1),
        json!(1),
        json!(2),
        json!(1_000),
        json!(1_000_000),
        json!(1_000_000_000u64),
        json!(1_000_000_000_000u64),
        json!(1u64 << 62),
        json!(u64::MAX),
        json!(1e38),
        json!(-1e38),
        json!(1e-30),
        json!(0.5),
        json!(-0.5),
        json!(1.5),
        json!(true),
        json!(null),
        json!("junk"),
        json!(""),
        json!(junk),
        json!("x".repeat(100_000)),
        json!([]),
        json!([1, 2, 3]),
        json!({}),
        json!({"kind": "Nope"}),
    ];
    values[pick % values.len()].clone()
}

/// Whole datasets swapped in, with odd sizes.
fn odd_source(pick: usize, size: &Value) -> Value {
    match pick % 8 {
        0 => json!({"kind": "Toy2d", "pattern": "Blobs", "classes": size, "samples": 200}),
        1 => json!({"kind": "Toy2d", "pattern": "Plane", "samples": size}),
        2 => json!({"kind": "Sequence", "task": "Addition", "length": size, "samples": 100}),
        3 => json!({"kind": "Sequence", "task": "Copy", "length": 4, "vocab": size, "samples": size}),
        4 => json!({"kind": "CharWindows", "text": "FirstNames", "window": size, "samples": 500}),
        5 => json!({"kind": "Sentiment", "samples": size}),
        6 => json!({"kind": "Csv", "path": "/", "options": {"label": "Last"}}),
        _ => json!({"kind": "ImageFolder", "path": "/nonexistent", "size": size}),
    }
}

/// One change; the numbers pick a place in the document (modulo the number of places) or a
/// byte of the file, and a value.
#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    /// A number in the document (a size, a rate, a seed) becomes an odd number.
    Number(usize, usize),
    Replace(usize, usize),
    Source(usize, usize),
    Truncate(usize),
    InvalidUtf8(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => any::<usize>().prop_map(Mutation::Delete),
        8 => (any::<usize>(), any::<usize>()).prop_map(|(i, v)| Mutation::Number(i, v)),
        3 => (any::<usize>(), any::<usize>()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        3 => (any::<usize>(), any::<usize>()).prop_map(|(s, v)| Mutation::Source(s, v)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => any::<usize>().prop_map(Mutation::InvalidUtf8),
    ]
}

/// The mutated notebook file's bytes.
fn mutate(mut doc: Value, mutations: &[Mutation]) -> Vec<u8> {
    let mut text_edits = Vec::new();
    for m in mutations {
        let mut all = Vec::new();
        places(&doc, &mut Vec::new(), &mut all);
        match m {
            Mutation::Delete(i) => {
                let path = all[i % all.len()].clone();
                if let Some((last, parent)) = path.split_last() {
                    match (at(&mut doc, parent), last) {
                        (Some(Value::Object(map)), Value::String(key)) => {
                            map.remove(key);
                        }
                        (Some(Value::Array(items)), Value::Number(n)) => {
                            let n = usize::try_from(n.as_u64().unwrap_or(0)).unwrap_or(0);
                            if n < items.len() {
                                items.remove(n);
                            }
                        }
                        _ => {}
                    }
                }
            }
            Mutation::Number(i, pick) => {
                let numbers: Vec<&Vec<Value>> =
                    all.iter().filter(|p| matches!(at(&mut doc.clone(), p), Some(Value::Number(_)))).collect();
                if let Some(&path) = numbers.get(i % numbers.len().max(1)) {
                    let path = path.clone();
                    if let Some(v) = at(&mut doc, &path) {
                        *v = odd_value(pick % 16);
                    }
                }
            }
            Mutation::Replace(i, pick) => {
                let path = all[i % all.len()].clone();
                if let Some(v) = at(&mut doc, &path) {
                    *v = odd_value(*pick);
                }
            }
            Mutation::Source(which, size) => {
                if let Some(source) = at(&mut doc, &[json!("data"), json!("source")]) {
                    *source = odd_source(*which, &odd_value(*size));
                }
            }
            Mutation::Truncate(_) | Mutation::InvalidUtf8(_) => text_edits.push(m.clone()),
        }
    }
    let mut bytes = serde_json::to_vec_pretty(&doc).expect("serialises");
    for edit in text_edits {
        match edit {
            Mutation::Truncate(i) => bytes.truncate(i % bytes.len().max(1)),
            Mutation::InvalidUtf8(i) => {
                let at = i % bytes.len().max(1);
                bytes.insert(at, 0xff);
            }
            _ => {}
        }
    }
    bytes
}

fn dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("glassbox-hostile-notebooks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The process's peak resident memory so far, in kB (Linux), if it can be read.
fn peak_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn config() -> Config {
    Config {
        // More with GLASSBOX_FUZZ_CASES=N (a longer hunt than CI's).
        cases: std::env::var("GLASSBOX_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(300),
        rng_seed: RngSeed::Fixed(0x0067_6c61_7373_626f),
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_notebooks_end_with_a_code_and_one_line(
        which in 0usize..EXAMPLES.len(),
        mutations in proptest::collection::vec(mutation(), 1..3),
        case in any::<u64>(),
    ) {
        glassbox_engine::memory::set_limit(MEMORY_LIMIT);
        let path = dir().join(format!("case-{case}.json"));
        std::fs::write(&path, mutate(example(which), &mutations)).expect("written");
        let args = TrainArgs { notebook: path.clone(), steps: Some(2), ..TrainArgs::default() };
        let outcome = catch_unwind(AssertUnwindSafe(|| cli::run(Cmd::Train(args))));
        let _ = std::fs::remove_file(&path);
        let Ok(result) = outcome else {
            return Err(TestCaseError::fail(format!("panicked on {mutations:?} of {}", EXAMPLES[which])));
        };
        if let Err(e) = result {
            prop_assert!(e.code == 1 || e.code == 2, "exit code {}: {}", e.code, e.message);
            prop_assert!(!e.message.trim().is_empty() && !e.message.contains('\n'), "one line: {:?}", e.message);
            prop_assert!(e.message.chars().count() < 1500, "a short message, not {} characters", e.message.chars().count());
            prop_assert!(!e.message.contains("internal error"), "{}", e.message);
        }
        if let Some(peak) = peak_kb() {
            prop_assert!(peak < PROCESS_PEAK_LIMIT_KB, "the process reached {peak} kB");
        }
    }
}

#[test]
fn the_mutations_do_what_they_say() {
    // Guards the property test: its mutations must change the document as named.
    let doc = example(0);
    let mut all = Vec::new();
    places(&doc, &mut Vec::new(), &mut all);
    assert!(all.len() > 40, "{} places", all.len());
    let title = all.iter().position(|p| p == &vec![json!("title")]).expect("a title");
    let without = mutate(doc.clone(), &[Mutation::Delete(title)]);
    assert!(!String::from_utf8_lossy(&without).contains("\"title\""));
    let replaced = mutate(doc.clone(), &[Mutation::Replace(title, 18)]);
    assert!(String::from_utf8_lossy(&replaced).contains("\"title\": \"junk\""));
    let swapped = mutate(doc.clone(), &[Mutation::Source(5, 3)]);
    assert!(String::from_utf8_lossy(&swapped).contains("Sentiment"));
    assert!(String::from_utf8(mutate(doc.clone(), &[Mutation::InvalidUtf8(0)])).is_err());
    assert!(mutate(doc, &[Mutation::Truncate(10)]).len() == 10);
}
