//! The `glassbox` command line, run as a real process: training end to end, evaluation, and
//! one-line messages with exit code 2 for bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use glassbox::notebook::{spiral_model, CellKind, ModelDef, Notebook};
use glassbox_engine::data::{DataSource, DataSpec, Pattern2d};
use glassbox_engine::graph::{GraphSpec, LayerSpec};

fn glassbox(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glassbox")).args(args).output().expect("the binary runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("glassbox-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn small_notebook(dir: &Path) -> PathBuf {
    let mut nb = Notebook {
        data: DataSpec::new(DataSource::Toy2d { pattern: Pattern2d::Gauss, samples: 200, noise: 0.0, seed: 1 }),
        ..Notebook::default()
    };
    nb.models[0].training.epochs = 3;
    let path = dir.join("small.json");
    nb.save(&path).expect("saves");
    path
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn train_then_eval_a_small_notebook() {
    let dir = temp_dir("train");
    let nb = small_notebook(&dir);
    let weights = dir.join("small.safetensors");
    let out = glassbox(&[
        "train",
        nb.to_str().expect("utf-8"),
        "--model",
        "MLP",
        "--epochs",
        "4",
        "--out",
        weights.to_str().expect("utf-8"),
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {}", text(&out.stderr));
    assert!(stdout.contains("trained 4 epoch(s), 40 steps"), "{stdout}");
    let accuracy_line = stdout.lines().find(|l| l.starts_with("test accuracy: ")).expect("final metrics").to_owned();
    let accuracy: f32 = accuracy_line["test accuracy: ".len()..].parse().expect("a number");
    assert!(accuracy > 0.9, "two Gaussian clouds are easy: {accuracy}");
    assert!(weights.exists());

    let out = glassbox(&["eval", nb.to_str().expect("utf-8"), "--weights", weights.to_str().expect("utf-8")]);
    let eval_out = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(eval_out.contains(&accuracy_line), "eval agrees with training: {eval_out}");
    assert!(eval_out.contains("confusion matrix") && eval_out.contains("orange"), "{eval_out}");
    std::fs::remove_dir_all(&dir).ok();
}

fn assert_bad_input(args: &[&str], needle: &str) {
    let out = glassbox(args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(needle), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    if !args.contains(&"--bogus") {
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.starts_with("glassbox: error: "), "{stderr}");
    }
}

#[test]
fn bad_input_gives_one_line_and_exit_code_2() {
    let dir = temp_dir("bad");
    assert_bad_input(&["train", "no-such-notebook.json"], "the notebook no-such-notebook.json does not exist");
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\n  \"graph\": [1, 2\n").expect("write");
    assert_bad_input(&["train", broken.to_str().expect("utf-8")], "is not valid JSON (line 3");
    let newer = dir.join("newer.json");
    std::fs::write(&newer, r#"{"format_version": 99}"#).expect("write");
    assert_bad_input(&["train", newer.to_str().expect("utf-8")], "newer Glassbox");
    let misfit = Notebook {
        models: vec![ModelDef {
            graph: GraphSpec::sequential(vec![
                LayerSpec::Input { shape: vec![3] },
                LayerSpec::Dense { units: 2, bias: true },
            ]),
            ..spiral_model("MLP")
        }],
        ..Notebook::default()
    };
    let misfit_path = dir.join("misfit.json");
    misfit.save(&misfit_path).expect("saves");
    assert_bad_input(&["train", misfit_path.to_str().expect("utf-8")], "the model's input takes [3]");
    let nb = small_notebook(&dir);
    assert_bad_input(
        &["eval", nb.to_str().expect("utf-8"), "--weights", "missing.safetensors"],
        "the weights file missing.safetensors does not exist",
    );
    std::fs::write(dir.join("junk.safetensors"), "junk").expect("write");
    let junk = dir.join("junk.safetensors");
    assert_bad_input(
        &["eval", nb.to_str().expect("utf-8"), "--weights", junk.to_str().expect("utf-8")],
        "is not a safetensors weights file",
    );
    assert_bad_input(&["train", "--bogus"], "unexpected argument");
    assert_bad_input(
        &["train", nb.to_str().expect("utf-8"), "--model", "Nope"],
        "the notebook has no model called \"Nope\"; its models are: MLP",
    );
    std::fs::remove_dir_all(&dir).ok();
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

#[test]
fn notebooks_round_trip_and_every_released_format_loads() {
    // Format 1: one graph and one training config at the top, read into one model.
    let v1 = Notebook::load(&fixture("notebook-v1.json")).expect("format 1 loads forever");
    let raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("notebook-v1.json")).expect("read")).expect("json");
    assert_eq!(raw["format_version"], 1);
    assert_eq!(v1.format_version, 2, "read into the current format");
    assert_eq!(v1.models.len(), 1);
    assert_eq!(v1.models[0].name, "Model");
    let graph: GraphSpec = serde_json::from_value(raw["graph"].clone()).expect("graph");
    assert_eq!(v1.models[0].graph, graph, "the graph came across");
    assert_eq!(v1.models[0].training.epochs, raw["training"]["epochs"].as_u64().expect("epochs") as usize);
    let kinds: Vec<&CellKind> = v1.cells.iter().map(|c| &c.kind).collect();
    assert_eq!(
        kinds,
        [&CellKind::Dataset, &CellKind::Model { model: "Model".into() }, &CellKind::Training { model: "Model".into() }],
        "a file without cells gets the standard ones, naming its model"
    );
    // Format 2: named models, cells that name them, folded cells, view state.
    let v2 = Notebook::load(&fixture("notebook-v2.json")).expect("format 2 loads forever");
    assert_eq!(v2.models.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["SGD", "Adam"]);
    assert!(matches!(v2.models[0].training.optimizer, glassbox_engine::tensor::OptimizerSpec::Sgd { .. }));
    assert_eq!(v2.cells[4].kind, CellKind::Training { model: "Adam".into() });
    assert!(v2.cells[1].folded && !v2.cells[0].folded);
    assert!(v2.view.log_scale);

    let dir = temp_dir("roundtrip");
    for nb in [v1, v2] {
        let path = dir.join("nb.json");
        nb.save(&path).expect("saves");
        assert_eq!(Notebook::load(&path).expect("loads"), nb);
        assert!(!dir.join("nb.json.tmp").exists(), "the save renamed its temporary file");
    }
    // The dataset and a model are required: a file without them is an error that says so.
    let e = Notebook::from_json(r#"{"title": "only a title"}"#, "sparse.json").expect_err("no models, no data");
    assert!(format!("{e:#}").contains("sparse.json: the notebook has no \"models\""), "{e:#}");
    let data = r#""data": {"source": {"kind": "Toy2d", "pattern": "Spiral"}}"#;
    let sparse = Notebook::from_json(
        &format!(r#"{{"title": "only a title", {data}, "models": [{{"name": "A", "graph": {{"nodes": []}}}}]}}"#),
        "sparse",
    )
    .expect("the rest fills in");
    assert_eq!(sparse.title, "only a title");
    assert_eq!(sparse.cells.len(), 3, "a dataset cell, and a model and a training cell");
    let twins = Notebook::from_json(
        &format!(r#"{{{data}, "models": [{{"name": "A", "graph": {{"nodes": [], "edges": []}}}}, {{"name": "A", "graph": {{"nodes": [], "edges": []}}}}]}}"#),
        "twins",
    )
    .expect("loads");
    assert_eq!(twins.models[1].name, "A 2", "model names are made unique");
    for example in ["spiral-mlp.json", "mnist-lenet.json", "compare-optimizers.json"] {
        let nb = Notebook::load(&glassbox::assets_path("assets/notebooks").join(example)).expect("the example loads");
        let splits = nb.data.build().expect("its data builds");
        for m in &nb.models {
            let model = glassbox_engine::tensor::Model::new(&m.graph, m.training.seed).expect("its graph compiles");
            assert_eq!(model.input_shape(), splits.train.shape.as_slice(), "{example}: the graph fits the data");
        }
        for cell in &nb.cells {
            if let Some(name) = cell.model() {
                assert!(nb.model(name).is_some(), "{example}: a cell names the missing model {name}");
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
