//! The architecture's invariants, checked mechanically: the engine does not depend on egui, the
//! app does not name dfdx, and inside the engine only the `tensor` module does.

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable source folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    assert!(!out.is_empty(), "no Rust files under {}", dir.display());
    out
}

/// Lines that use a crate in code (comments are allowed to talk about it).
fn code_mentions(path: &Path, krate: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("readable");
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .filter(|l| {
            l.contains(&format!("{krate}::"))
                || l.contains(&format!("use {krate}"))
                || l.contains(&format!("extern crate {krate}"))
        })
        .map(|l| format!("{}: {l}", path.display()))
        .collect()
}

fn dependencies(manifest: &Path) -> String {
    let text = std::fs::read_to_string(manifest).expect("readable manifest");
    // Everything from [dependencies] up to the next table.
    text.split("\n[")
        .filter(|t| t.starts_with("dependencies]") || t.starts_with("dev-dependencies]"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_engine_does_not_depend_on_egui() {
    let deps = dependencies(&root().join("engine/Cargo.toml"));
    assert!(deps.contains("dfdx"), "the check reads the right table: {deps}");
    for ui_crate in ["egui", "eframe", "egui_plot", "egui-snarl", "egui_kittest"] {
        assert!(!deps.contains(ui_crate), "engine/Cargo.toml depends on {ui_crate}");
    }
    for file in rust_files(&root().join("engine")) {
        for krate in ["egui", "eframe"] {
            let hits = code_mentions(&file, krate);
            assert!(hits.is_empty(), "the engine uses {krate}: {hits:?}");
        }
    }
}

#[test]
fn the_app_does_not_name_dfdx() {
    let deps = dependencies(&root().join("Cargo.toml"));
    assert!(deps.contains("eframe"), "the check reads the right table: {deps}");
    assert!(!deps.contains("dfdx"), "the app depends on dfdx directly");
    for dir in ["src", "tests", "examples", "benches"] {
        if root().join(dir).exists() {
            for file in rust_files(&root().join(dir)) {
                let hits = code_mentions(&file, "dfdx");
                assert!(hits.is_empty(), "the app names dfdx: {hits:?}");
            }
        }
    }
}

#[test]
fn only_the_tensor_module_names_dfdx() {
    let tensor = root().join("engine/src/tensor");
    let mut seen_in_tensor = false;
    for file in rust_files(&root().join("engine")) {
        let hits = code_mentions(&file, "dfdx");
        if file.starts_with(&tensor) {
            seen_in_tensor |= !hits.is_empty();
        } else {
            assert!(hits.is_empty(), "dfdx outside engine/src/tensor: {hits:?}");
        }
    }
    assert!(seen_in_tensor, "the check would notice dfdx in the tensor module");
}

#[test]
fn cells_only_read_the_notebook_and_push_commands() {
    // A cell that changed the notebook itself would bypass undo and the runs' bookkeeping.
    let cells = rust_files(&root().join("src/app/cells"));
    assert!(cells.len() >= 5, "one file per kind of cell");
    for file in cells {
        let text = std::fs::read_to_string(&file).expect("readable");
        for forbidden in ["&mut Notebook", "notebook.as_mut", "nb.models.push", ".cells.push(", "model_mut("] {
            assert!(!text.contains(forbidden), "{} changes the notebook ({forbidden})", file.display());
        }
    }
}
