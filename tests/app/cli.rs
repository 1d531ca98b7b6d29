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

    // Every node's output for test sample 3, named by node id: the same numbers as the model's
    // own forward pass with these weights.
    let acts = dir.join("sample3.safetensors");
    let inspect = |sample: &'static str| {
        [
            "inspect",
            nb.to_str().expect("utf-8"),
            "--weights",
            weights.to_str().expect("utf-8"),
            "--sample",
            sample,
            "--out",
            acts.to_str().expect("utf-8"),
        ]
    };
    let out = glassbox(&inspect("3"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::read(&acts).expect("written");
    let file = safetensors::SafeTensors::deserialize(&bytes).expect("safetensors");
    let loaded = Notebook::load(&nb).expect("loads");
    let splits = loaded.data.build().expect("data");
    let mut model =
        glassbox_engine::tensor::Model::new(&loaded.models[0].graph, loaded.models[0].training.seed).expect("model");
    glassbox_engine::train::load_weights(&mut model, &weights, false).expect("weights");
    let expected = model.forward_record(splits.test.sample(3), 1).expect("forward");
    let mut names = file.names();
    names.sort();
    assert_eq!(names.len(), expected.len(), "one tensor per node");
    for node in &expected {
        let t = file.tensor(&node.id).expect("named by node id");
        assert_eq!(t.shape(), node.shape.as_slice(), "{}", node.id);
        let values: Vec<f32> = t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        assert_eq!(values, node.values, "{}", node.id);
    }
    assert_bad_input(&inspect("40"), "--sample 40 is past the test split, which has 40 samples: use 0 to 39");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn inspecting_a_transformer_writes_its_attention_maps() {
    let dir = temp_dir("inspect-attention");
    let nb = glassbox::assets_path("assets/notebooks/reverse-transformer.json");
    let nb = nb.to_str().expect("utf-8");
    let weights = dir.join("t.safetensors");
    let out = glassbox(&["train", nb, "--steps", "20", "--out", weights.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let maps = dir.join("maps.safetensors");
    let out = glassbox(&[
        "inspect",
        nb,
        "--weights",
        weights.to_str().expect("utf-8"),
        "--sample",
        "2",
        "--out",
        maps.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::read(&maps).expect("written");
    let file = safetensors::SafeTensors::deserialize(&bytes).expect("safetensors");
    for block in ["transformerblock1", "transformerblock2"] {
        let t = file.tensor(&format!("{block}.attention")).expect("the block's attention maps");
        assert_eq!(t.shape(), [4, 8, 8], "[heads, time, time]");
        let values: Vec<f32> = t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        for row in values.chunks_exact(8) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "each query's attention adds up to 1");
        }
    }
    assert!(file.tensor("dense1").is_ok(), "and every node's output");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn explain_writes_a_map_as_a_tensor_or_a_picture_and_says_whether_it_adds_up() {
    let dir = temp_dir("explain");
    let nb = glassbox::assets_path("assets/notebooks/mnist-lenet.json");
    let nb = nb.to_str().expect("utf-8");
    let weights = dir.join("lenet.safetensors");
    let out = glassbox(&["train", nb, "--steps", "60", "--out", weights.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let w = weights.to_str().expect("utf-8");
    let map = dir.join("ig.safetensors");
    let m = map.to_str().expect("utf-8");
    let out =
        glassbox(&["explain", nb, "--weights", w, "--sample", "4", "--method", "ig", "--steps", "64", "--out", m]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("Integrated Gradients of class") && stdout.contains("add up to"), "{stdout}");
    let bytes = std::fs::read(&map).expect("written");
    let file = safetensors::SafeTensors::deserialize(&bytes).expect("safetensors");
    let t = file.tensor("attribution").expect("named attribution");
    assert_eq!(t.shape(), [1, 28, 28]);
    // The same numbers as the engine's, with the same defaults.
    let loaded = Notebook::load(Path::new(nb)).expect("loads");
    let splits = loaded.data.build().expect("data");
    let mut model =
        glassbox_engine::tensor::Model::new(&loaded.models[0].graph, loaded.models[0].training.seed).expect("model");
    glassbox_engine::train::load_weights(&mut model, &weights, false).expect("weights");
    let settings = glassbox_engine::explain::Settings {
        steps: 64,
        ..glassbox_engine::explain::Settings::of(glassbox_engine::explain::Method::IntegratedGradients)
    };
    let want = glassbox_engine::explain::explain(
        &mut model,
        splits.test.sample(4),
        &settings,
        &glassbox_engine::explain::Reference::of(&splits.train),
        &mut |_| true,
    )
    .expect("explains");
    let values: Vec<f32> = t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    assert_eq!(values, want.values);

    let png = dir.join("cam.png");
    let out = glassbox(&[
        "explain",
        nb,
        "--weights",
        w,
        "--sample",
        "4",
        "--method",
        "gradcam",
        "--out",
        png.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::read(&png).expect("written");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    assert_eq!(u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]), 280, "28 pixels, 10 each");

    assert_bad_input(
        &["explain", nb, "--weights", w, "--sample", "4", "--method", "magic", "--out", m],
        "use one of saliency",
    );
    assert_bad_input(
        &["explain", nb, "--weights", w, "--sample", "4", "--method", "gradcam", "--layer", "dense1", "--out", m],
        "dense1 does not give maps",
    );
    let txt = dir.join("map.txt");
    assert_bad_input(
        &["explain", nb, "--weights", w, "--sample", "4", "--method", "ig", "--out", txt.to_str().expect("utf-8")],
        "write a .safetensors file",
    );

    // A figure: the map over the digit, its title, colour bar and legend, as SVG.
    let svg_path = dir.join("saliency.svg");
    let out = glassbox(&[
        "explain",
        nb,
        "--weights",
        w,
        "--sample",
        "4",
        "--method",
        "saliency",
        "--out",
        svg_path.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let svg = std::fs::read_to_string(&svg_path).expect("written");
    let (texts, rects) = svg_parts(&svg);
    assert!(texts.iter().any(|t| t == "Saliency of test sample 4"), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("the model says")), "{texts:?}");
    assert!(texts.iter().any(|t| t == "red: raised the score"), "{texts:?}");
    assert!(rects.len() >= 28 * 28 + 240, "every pixel and the colour bar: {}", rects.len());
    assert!(rects.iter().collect::<std::collections::BTreeSet<_>>().len() > 20, "not one flat colour");

    // A text's figure: one bar per token, each named.
    let nb = glassbox::assets_path("assets/notebooks/sentiment-lstm.json");
    let nb = nb.to_str().expect("utf-8");
    let weights = dir.join("lstm.safetensors");
    let out = glassbox(&["train", nb, "--steps", "20", "--out", weights.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let svg_path = dir.join("occlusion.svg");
    let out = glassbox(&[
        "explain",
        nb,
        "--weights",
        weights.to_str().expect("utf-8"),
        "--sample",
        "2",
        "--method",
        "occlusion",
        "--out",
        svg_path.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let svg = std::fs::read_to_string(&svg_path).expect("written");
    let (texts, _) = svg_parts(&svg);
    let loaded = Notebook::load(Path::new(nb)).expect("loads");
    let splits = loaded.data.build().expect("data");
    let vocab = splits.test.vocab.as_ref().expect("words");
    let first = vocab.tokens()[splits.test.sample(2)[0] as usize].clone();
    assert!(texts.contains(&first), "the first token {first} labels a bar: {texts:?}");
    std::fs::remove_dir_all(&dir).ok();
}

/// An SVG's text lines and its rectangles' fill colours (it must parse).
fn svg_parts(svg: &str) -> (Vec<String>, Vec<String>) {
    let doc = roxmltree::Document::parse(svg).expect("the SVG parses");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts = crate::svg_texts(&doc);
    let rects = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect"))
        .map(|n| n.attribute("fill").unwrap_or_default().to_owned())
        .collect();
    (texts, rects)
}

fn assert_bad_input(args: &[&str], needle: &str) {
    let out = glassbox(args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(needle), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("glassbox: error: "), "{stderr}");
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
    assert_eq!(v1.format_version, glassbox::notebook::FORMAT_VERSION, "read into the current format");
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
    // Format 3: the comparison cell, cells beside the one before, the training speed.
    let v3 = Notebook::load(&fixture("notebook-v3.json")).expect("format 3 loads forever");
    assert_eq!(v3.cells.last().map(|c| &c.kind), Some(&CellKind::Compare));
    assert_eq!(v3.cells.iter().map(|c| c.beside).collect::<Vec<_>>(), [false, false, true, false, true, false]);
    assert_eq!(v3.view.steps_per_second, Some(100.0));

    let dir = temp_dir("roundtrip");
    for nb in [v1, v2, v3] {
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

/// Runs `glassbox` and returns (exit code, stdout, stderr), checking that whatever went wrong
/// was said in one line, without a panic.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = glassbox(args);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    if let Some(error) = stderr.lines().find(|l| l.starts_with("glassbox: error: ")) {
        assert_eq!(stderr.lines().filter(|l| l.starts_with("glassbox: error")).count(), 1, "{stderr}");
        assert!(error.len() < 1500, "a short message: {} bytes", error.len());
    }
    (out.status.code(), stdout, stderr)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// The small notebook with one change made to its JSON.
fn edited(dir: &Path, name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(small_notebook(dir)).expect("read")).expect("json");
    edit(&mut doc);
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&doc).expect("json")).expect("write");
    path
}

#[test]
fn out_paths_that_would_lose_a_file_are_refused_before_training() {
    let dir = temp_dir("out");
    let nb = small_notebook(&dir);
    let before = std::fs::read(&nb).expect("read");
    let (code, _, stderr) = run(&["train", path_str(&nb), "--out", path_str(&nb)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("is the notebook itself"), "{stderr}");
    assert_eq!(std::fs::read(&nb).expect("read"), before, "the notebook is untouched");
    // The same file by another name is the notebook too.
    let (code, _, _) = run(&["train", path_str(&nb), "--out", &format!("{}/./small.json", dir.display())]);
    assert_eq!(code, Some(2));

    let folder = dir.join("weights");
    std::fs::create_dir(&folder).expect("mkdir");
    let (code, stdout, stderr) = run(&["train", path_str(&nb), "--out", path_str(&folder)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("is a folder: give a file name in it"), "{stderr}");
    assert!(!stdout.contains("trained"), "refused before training: {stdout}");

    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "my notes").expect("write");
    let (code, _, stderr) = run(&["train", path_str(&nb), "--out", path_str(&notes)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("exists and is not a weights file") && stderr.contains("--overwrite"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&notes).expect("read"), "my notes");
    let (code, _, stderr) = run(&["train", path_str(&nb), "--epochs", "1", "--out", path_str(&notes), "--overwrite"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(glassbox_engine::train::is_weights_file(&std::fs::read(&notes).expect("read")));

    let nowhere = dir.join("no-such-folder").join("w.safetensors");
    let (code, stdout, stderr) = run(&["train", path_str(&nb), "--out", path_str(&nowhere)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("cannot be written") && !stdout.contains("trained"), "{stderr}");
    let leftovers: Vec<String> = std::fs::read_dir(&dir)
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn runs_that_mean_nothing_are_not_reported_as_success() {
    let dir = temp_dir("nothing");
    // A learning rate that diverges: exit 1, nothing saved unless asked.
    let sgd = edited(&dir, "sgd.json", |d| {
        d["models"][0]["training"]["optimizer"] = serde_json::json!({"kind": "Sgd", "lr": 1e6});
        d["models"][0]["training"]["epochs"] = serde_json::json!(30);
    });
    let weights = dir.join("sgd.safetensors");
    let (code, _, stderr) = run(&["train", path_str(&sgd), "--out", path_str(&weights)]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("Training is diverging") && stderr.contains("Nothing was saved"), "{stderr}");
    assert!(!weights.exists());
    let (code, stdout, stderr) = run(&["train", path_str(&sgd), "--out", path_str(&weights), "--save-anyway"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.contains("weights saved") && stderr.contains("saved, as asked"), "{stderr}");
    // Those weights are finite, so they evaluate; NaN weights do not, and the tensor is named.
    let mut poisoned = glassbox_engine::tensor::Model::new(&spiral_model("MLP").graph, 0).expect("compiles");
    let mut w = poisoned.weights()["dense2.weight"].clone();
    w[5] = f32::INFINITY;
    poisoned.set_weight("dense2.weight", &w).expect("fits");
    let bad = dir.join("bad.safetensors");
    glassbox_engine::train::save_weights(&poisoned, &bad).expect("saves");
    let nb = small_notebook(&dir);
    let (code, stdout, stderr) = run(&["eval", path_str(&nb), "--weights", path_str(&bad)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("dense2.weight holds inf at position 5"), "{stderr}");
    assert!(!stdout.contains("test loss"), "{stdout}");
    // A learning rate of 0 or less is refused when the notebook is read.
    let negative =
        edited(&dir, "negative.json", |d| d["models"][0]["training"]["optimizer"]["lr"] = serde_json::json!(-0.1));
    let (code, _, stderr) = run(&["train", path_str(&negative)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("model \"MLP\": training.optimizer.lr (the learning rate) is -0.1"), "{stderr}");
    // No test split is said, not shown as an accuracy of 0.
    let no_test = edited(&dir, "no-test.json", |d| d["data"]["pipeline"]["test_fraction"] = serde_json::json!(0.0));
    let (code, stdout, stderr) = run(&["train", path_str(&no_test), "--epochs", "1"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("no test split") && !stdout.contains("test accuracy"), "{stdout}");
    let too_much = edited(&dir, "too-much.json", |d| d["data"]["pipeline"]["test_fraction"] = serde_json::json!(1.5));
    let (code, _, stderr) = run(&["train", path_str(&too_much)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("the test share (pipeline.test_fraction) is 1.5"), "{stderr}");
    // A slope that overflows is named instead of the learning rate.
    let slope = edited(&dir, "slope.json", |d| {
        d["models"][0]["graph"]["nodes"][2]["layer"] = serde_json::json!({"kind": "LeakyReLU", "slope": 1e38});
    });
    let (code, _, stderr) = run(&["train", path_str(&slope), "--epochs", "1"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("its slope 1e38") && !stderr.contains("probably too high"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn notebooks_that_lack_or_mistype_something_say_what_and_where() {
    let dir = temp_dir("lacks");
    let no_models = edited(&dir, "no-models.json", |d| d["models"] = serde_json::json!([]));
    let (code, _, stderr) = run(&["train", path_str(&no_models)]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("the notebook's \"models\" list is empty"), "{stderr}");
    let no_data = edited(&dir, "no-data.json", |d| {
        d.as_object_mut().expect("object").remove("data");
    });
    let (code, _, stderr) = run(&["train", path_str(&no_data)]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("the notebook has no \"data\""), "{stderr}");
    // A typo is a warning that names the key, its line and the keys there are; the run goes on.
    let typo = edited(&dir, "typo.json", |d| {
        let source = d["data"]["source"].as_object_mut().expect("object");
        let samples = source.remove("samples").expect("samples");
        source.insert("smaples".into(), samples);
    });
    let (code, _, stderr) = run(&["train", path_str(&typo), "--epochs", "1"]);
    assert_eq!(code, Some(0), "{stderr}");
    let line =
        std::fs::read_to_string(&typo).expect("read").lines().position(|l| l.contains("smaples")).expect("there") + 1;
    assert!(
        stderr.contains(&format!(
            "glassbox: warning: {}: the key \"smaples\" (line {line}) in data.source is not one Glassbox knows",
            typo.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("the keys there are: kind, noise, pattern, samples, seed"), "{stderr}");
    // A value of the wrong type names its field, also inside a layer; a 10 MB string is cut.
    let units = edited(&dir, "units.json", |d| {
        d["models"][0]["graph"]["nodes"][1]["layer"]["units"] = serde_json::json!("x".repeat(10_000_000));
    });
    let (code, _, stderr) = run(&["train", path_str(&units)]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("in models[0].graph.nodes[1].layer.units: invalid type: string \"xxxx"),
        "{}",
        &stderr[..300.min(stderr.len())]
    );
    assert!(stderr.contains("… (10000000 characters)") && stderr.len() < 600, "{} bytes", stderr.len());
    // Not UTF-8: the byte is named.
    let binary = dir.join("binary.json");
    std::fs::write(&binary, b"{\"title\": \"\xff\"}").expect("write");
    let (code, _, stderr) = run(&["train", path_str(&binary)]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("is not text: byte 11 (counted from 0) is not valid UTF-8"), "{stderr}");
    // Every label is checked before the run: three blobs into a model that scores two classes.
    let blobs = edited(&dir, "blobs.json", |d| {
        d["data"]["source"] = serde_json::json!({"kind": "Toy2d", "pattern": "Blobs", "classes": 3, "samples": 90});
    });
    let (code, stdout, stderr) = run(&["train", path_str(&blobs)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("the data has class 2 (\"cluster 2\"), but the output layer scores only 2 classes"),
        "{stderr}"
    );
    assert!(!stdout.contains("trained"));
    // Sizes that cannot fit: a message with the figure, at once.
    let huge = edited(&dir, "huge.json", |d| d["data"]["source"]["samples"] = serde_json::json!(1_000_000_000_000u64));
    let started = std::time::Instant::now();
    let (code, _, stderr) = run(&["train", path_str(&huge)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("this dataset needs about") && stderr.contains("this machine has"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn files_that_are_not_files_or_not_csv_enough_are_named() {
    let dir = temp_dir("files");
    #[cfg(unix)]
    {
        let fifo = dir.join("pipe.json");
        assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
        let started = std::time::Instant::now();
        let (code, _, stderr) = run(&["train", path_str(&fifo)]);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains("pipe.json is not a regular file"), "{stderr}");
        let nb = small_notebook(&dir);
        let (code, _, stderr) = run(&["eval", path_str(&nb), "--weights", path_str(&fifo)]);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains("the weights file") && stderr.contains("is not a regular file"), "{stderr}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "nothing waited on the pipe");
    }
    let with_csv = |name: &str, csv: &str| {
        let file = dir.join(format!("{name}.csv"));
        std::fs::write(&file, csv).expect("write");
        edited(&dir, &format!("{name}.json"), |d| {
            d["data"]["source"] = serde_json::json!({"kind": "Csv", "path": file, "options": {"label": "Last"}});
        })
    };
    let empty_label = with_csv("empty-label", "a,b,c\n1,2,x\n3,4,\n5,6,y\n");
    let (code, _, stderr) = run(&["train", path_str(&empty_label)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("empty-label.csv: line 3, column 3 ('c') is empty"), "{stderr}");
    let one_column = with_csv("one-column", "a\n1\n2\n");
    let (code, _, stderr) = run(&["train", path_str(&one_column)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("one-column.csv: every line has a single column (tried commas, semicolons, tabs and |)"),
        "{stderr}"
    );
    let rows: String =
        (0..60).map(|i| format!("{};{};{}\n", i % 7, (i * 3) % 5, if i % 2 == 0 { "even" } else { "odd" })).collect();
    let semicolons = with_csv("semicolons", &format!("p;q;label\n{rows}"));
    let (code, stdout, stderr) = run(&["train", path_str(&semicolons), "--epochs", "1"]);
    assert_eq!(code, Some(0), "semicolons are found: {stderr}");
    assert!(stdout.contains("test accuracy"), "{stdout}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_second_hostile_sweep_stays_fixed() {
    let dir = temp_dir("sweep");
    let nb = small_notebook(&dir);
    let nb_s = path_str(&nb);
    // Command-line mistakes: one line, the prefix, exit 2.
    for args in [
        &["train", nb_s, "--steps", "0"][..],
        &["train", nb_s, "--epochs", "1000000000000"],
        &["train", nb_s, "--steps", "1", "--epochs", "1"],
        &["train", nb_s, "--overwrite"],
        &["eval", nb_s],
    ] {
        let out = glassbox(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("glassbox: error: "), "{args:?}: {stderr}");
    }
    // --out: never a device or a pipe, even with --overwrite; never a name ending in a slash;
    // a symbolic link is written through; a user's file named like our temporary is untouched.
    #[cfg(unix)]
    {
        let (code, _, stderr) = run(&["train", nb_s, "--steps", "1", "--out", "/dev/null", "--overwrite"]);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains("is not a regular file"), "{stderr}");
        let target = dir.join("kept.safetensors");
        let link = dir.join("link.safetensors");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        let (code, _, stderr) = run(&["train", nb_s, "--steps", "2", "--out", path_str(&link)]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(
            std::fs::symlink_metadata(&link).expect("still there").file_type().is_symlink(),
            "the link stays a link"
        );
        assert!(glassbox_engine::train::looks_like_weights_file(&target), "written through the link");
    }
    let (code, stdout, stderr) = run(&["train", nb_s, "--out", &format!("{}/new/", dir.display())]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("names a folder, not a file") && !stdout.contains("trained"), "{stderr}");
    let mine = dir.join("w.safetensors.tmp");
    std::fs::write(&mine, "my own file").expect("write");
    let (code, _, stderr) = run(&["train", nb_s, "--steps", "2", "--out", path_str(&dir.join("w.safetensors"))]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(std::fs::read_to_string(&mine).expect("still there"), "my own file");
    // Files far larger than they can be are refused by their size, before they are read.
    let huge = dir.join("huge.safetensors");
    std::fs::File::create(&huge).and_then(|f| f.set_len(6 << 30)).expect("sparse file");
    let started = std::time::Instant::now();
    let (code, _, stderr) = run(&["eval", nb_s, "--weights", path_str(&huge)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("is 6.0 GB, more than the weights file can be"), "{stderr}");
    let (code, _, stderr) = run(&["train", path_str(&huge)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("more than the notebook can be"), "{stderr}");
    let (code, _, stderr) = run(&["train", nb_s, "--steps", "1", "--out", path_str(&huge)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("exists and is not a weights file"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "nothing read whole: {:?}", started.elapsed());
    // Short runs that blow up exit 1; huge but finite weights do not evaluate as a success.
    let adam = edited(&dir, "adam.json", |d| {
        d["data"]["source"] = serde_json::json!({"kind": "Toy2d", "pattern": "Spiral", "samples": 300, "noise": 0.1});
        d["models"][0]["training"]["optimizer"] = serde_json::json!({"kind": "Adam", "lr": 1000.0});
    });
    let (code, _, stderr) = run(&["train", path_str(&adam), "--steps", "8"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("the run ended with the loss far above where it started"), "{stderr}");
    let mut big = glassbox_engine::tensor::Model::new(&spiral_model("MLP").graph, 0).expect("compiles");
    let w = vec![3e38; big.weights()["dense3.weight"].len()];
    big.set_weight("dense3.weight", &w).expect("fits");
    let big_path = dir.join("big.safetensors");
    glassbox_engine::train::save_weights(&big, &big_path).expect("saves");
    let (code, stdout, stderr) = run(&["eval", nb_s, "--weights", path_str(&big_path)]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("holds weights up to 3.00e38") && stderr.contains("are not finite numbers"), "{stderr}");
    assert!(!stdout.contains("test loss"), "{stdout}");
    // Settings that used to be changed quietly are refused.
    let vocab = edited(&dir, "vocab.json", |d| {
        d["data"]["source"] = serde_json::json!({"kind": "Sequence", "task": "Copy", "vocab": 1});
    });
    let (code, _, stderr) = run(&["train", path_str(&vocab)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("the sequence task has 1 symbols: use 2 to 100"), "{stderr}");
    let epochs = edited(&dir, "epochs.json", |d| d["models"][0]["training"]["epochs"] = serde_json::json!(u64::MAX));
    let (code, _, stderr) = run(&["train", path_str(&epochs)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("training.epochs is 18446744073709551615: use 1 to 1000000"), "{stderr}");
    let limit = Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .args(["train", nb_s])
        .env("GLASSBOX_MEMORY_LIMIT", "lots")
        .output()
        .expect("runs");
    assert_eq!(limit.status.code(), Some(2));
    assert!(text(&limit.stderr).contains("GLASSBOX_MEMORY_LIMIT is \"lots\", which is not a size"));
    // Metrics that would mean nothing are not printed as if they did.
    let plane = edited(&dir, "plane.json", |d| {
        d["data"]["source"] = serde_json::json!({"kind": "Toy2d", "pattern": "Plane", "samples": 200});
        d["models"][0]["graph"]["nodes"][5]["layer"]["units"] = serde_json::json!(1);
    });
    let (code, stdout, stderr) = run(&["train", path_str(&plane), "--epochs", "2"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("the loss is the mean squared error") && !stdout.contains("accuracy"), "{stdout}");
    let few = edited(&dir, "few.json", |d| d["data"]["source"]["samples"] = serde_json::json!(2));
    let (code, _, stderr) = run(&["eval", path_str(&few), "--weights", path_str(&big_path)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("with a test share of 0.2, each class has too few samples"), "{stderr}");
    // A format-1 graph beside the models is a warning; a byte-order mark is fine; long paths are cut.
    let both = edited(&dir, "both.json", |d| d["graph"] = serde_json::json!({"nodes": []}));
    let (code, _, stderr) = run(&["train", path_str(&both), "--steps", "1"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("the key \"graph\" (line") && stderr.contains("is from notebook format 1"), "{stderr}");
    let bom = dir.join("bom.json");
    std::fs::write(&bom, format!("\u{feff}{}", std::fs::read_to_string(&nb).expect("read"))).expect("write");
    let (code, _, stderr) = run(&["train", path_str(&bom), "--steps", "1"]);
    assert_eq!(code, Some(0), "{stderr}");
    let far = edited(&dir, "far.json", |d| {
        d["data"]["source"] = serde_json::json!({"kind": "Csv", "path": format!("/{}/data.csv", "deep".repeat(800))});
    });
    let (code, _, stderr) = run(&["train", path_str(&far)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.len() < 600 && stderr.contains("(3210 characters)"), "{} bytes: {stderr}", stderr.len());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_third_hostile_sweep_stays_fixed() {
    let dir = temp_dir("third");
    let nb = small_notebook(&dir);
    let nb_s = path_str(&nb);
    // A last step that breaks the weights: exit 1, nothing saved.
    let wild = edited(&dir, "wild.json", |d| {
        d["models"][0]["training"]["optimizer"] = serde_json::json!({"kind": "Sgd", "lr": 1e38});
    });
    let out = dir.join("wild.safetensors");
    let (code, _, stderr) = run(&["train", path_str(&wild), "--steps", "1", "--out", path_str(&out)]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!out.exists(), "nothing saved: {stderr}");
    // The schedule plans over the epochs asked for on the command line.
    let cosine = edited(&dir, "cosine.json", |d| {
        d["models"][0]["training"]["epochs"] = serde_json::json!(1);
        d["models"][0]["training"]["schedule"] = serde_json::json!({"kind": "Cosine", "min_factor": 0.0});
    });
    let (one, five) = (dir.join("one.safetensors"), dir.join("five.safetensors"));
    assert_eq!(run(&["train", path_str(&cosine), "--epochs", "1", "--out", path_str(&one)]).0, Some(0));
    assert_eq!(run(&["train", path_str(&cosine), "--epochs", "5", "--out", path_str(&five)]).0, Some(0));
    assert_ne!(std::fs::read(&one).expect("read"), std::fs::read(&five).expect("read"), "epochs 2 to 5 trained too");
    // An output wider than the classes: its extra predictions show in the confusion matrix.
    let wide =
        edited(&dir, "wide.json", |d| d["models"][0]["graph"]["nodes"][5]["layer"]["units"] = serde_json::json!(10));
    let (code, stdout, _) = run(&["train", path_str(&wide), "--steps", "1"]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("out 9") && stdout.contains("the model scores 10 outputs but the data has 2 classes"),
        "{stdout}"
    );
    // Two models of one name: the second is renamed, never to a name the file gives another model.
    let twins = edited(&dir, "twins.json", |d| {
        let model = d["models"][0].clone();
        let mut other = model.clone();
        other["name"] = serde_json::json!("MLP 2");
        d["models"] = serde_json::json!([model.clone(), model, other]);
    });
    let (code, _, stderr) = run(&["train", path_str(&twins), "--steps", "1", "--model", "MLP 2"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("a second model called \"MLP\" is called \"MLP 3\" here"), "{stderr}");
    // Escape sequences in user text do not reach the terminal.
    let (code, _, stderr) = run(&["train", nb_s, "--model", "\u{1b}[2Jgone\r"]);
    assert_eq!(code, Some(2));
    assert!(!stderr.contains('\u{1b}') && !stderr.contains('\r') && stderr.contains("?[2Jgone?"), "{stderr:?}");
    // A misplaced key is reported at its own line, not at the first key of that name.
    let misplaced = edited(&dir, "misplaced.json", |d| d["models"][0]["training"]["lr"] = serde_json::json!(0.1));
    let text = std::fs::read_to_string(&misplaced).expect("read");
    let training_at = text.find("\"training\"").expect("training");
    let line = text[..training_at].matches('\n').count()
        + text[training_at..].find("\"lr\"").map_or(0, |at| text[training_at..training_at + at].matches('\n').count())
        + 1;
    let (_, _, stderr) = run(&["train", path_str(&misplaced), "--steps", "1"]);
    assert!(stderr.contains(&format!("the key \"lr\" (line {line}) in models[0].training")), "line {line}: {stderr}");
    // A file that appears at --out during training is kept, and the weights go beside it.
    let essay = dir.join("essay.safetensors");
    std::fs::write(&essay, "my essay").expect("write");
    let (path, why) = glassbox::cli::save_target(&essay, false);
    assert_ne!(path, essay);
    assert!(why.expect("a reason").contains("appeared during training and is not a weights file"));
    assert_eq!(glassbox::cli::save_target(&essay, true).0, essay, "--overwrite replaces it");
    std::fs::remove_dir_all(&dir).ok();
}

/// The f32 tensors of a safetensors file, by name: shape and values.
fn tensors(path: &Path) -> std::collections::BTreeMap<String, (Vec<usize>, Vec<f32>)> {
    let bytes = std::fs::read(path).expect("written");
    let file = safetensors::SafeTensors::deserialize(&bytes).expect("safetensors");
    file.tensors()
        .into_iter()
        .map(|(name, t)| {
            let values = t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            (name, (t.shape().to_vec(), values))
        })
        .collect()
}

#[test]
fn export_writes_a_pytorch_script_with_its_weights_and_data_and_new_writes_a_template() {
    let dir = temp_dir("export");
    // A notebook from a template: the reverse Transformer (embedding, positions, blocks).
    let nb_path = dir.join("reverse.json");
    let out = glassbox(&["new", nb_path.to_str().expect("utf-8"), "--template", "Transformer: reverse a sequence"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let nb = Notebook::load(&nb_path).expect("a notebook");
    assert_eq!(nb.models.len(), 1);
    let out = glassbox(&["new", dir.join("x.json").to_str().expect("utf-8"), "--template", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("LeNet-5"), "the templates are listed: {}", text(&out.stderr));
    let listed = text(&glassbox(&["new", "--list"]).stdout);
    assert!(listed.lines().count() >= 10 && listed.contains("Residual CNN"), "{listed}");

    let script = dir.join("reverse_model.py");
    let out = glassbox(&["export", nb_path.to_str().expect("utf-8"), "--pytorch", script.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("its starting weights"), "{}", text(&out.stdout));
    let code = std::fs::read_to_string(&script).expect("written");
    // The fixed interface, and the graph's nodes by name.
    for needle in
        ["class Model(nn.Module):", "def load_weights(model, path=WEIGHTS):", "def normalize(x):", "def main():"]
    {
        assert!(code.contains(needle), "{needle} in the script");
    }
    for node in &nb.models[0].graph.nodes {
        if node.id != "input" {
            assert!(code.contains(&format!("        {} = ", node.id)), "node {} computed in forward", node.id);
        }
    }
    assert!(code.contains("nn.parallel.DistributedDataParallel") && code.contains("torch.optim.Adam"));
    assert!(code.contains(".t())"), "dense weights transposed on loading");
    // It parses as Python (no PyTorch needed for that).
    let parsed = Command::new("python3")
        .args(["-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())", script.to_str().expect("utf-8")])
        .output()
        .expect("python3 runs");
    assert!(parsed.status.success(), "{}", text(&parsed.stderr));
    // The weights beside it are the model's; the data holds the raw splits and Glassbox's outputs.
    let weights = tensors(&dir.join("reverse_model.safetensors"));
    let model = glassbox_engine::tensor::Model::new(&nb.models[0].graph, nb.models[0].training.seed).expect("model");
    for (name, values) in model.weights() {
        assert_eq!(weights[&name].1, values, "{name}");
    }
    let (raw, _) = nb.data.build_raw().expect("data");
    let test = tensors(&dir.join("reverse_model_data").join("test.safetensors"));
    let train = tensors(&dir.join("reverse_model_data").join("train.safetensors"));
    assert_eq!(train["x"].0, vec![raw.train.len(), 8]);
    assert_eq!(test["x"].1, raw.test.inputs);
    assert_eq!(test["y"].0, vec![raw.test.len(), 8], "a class per position");
    let splits = nb.data.build().expect("data");
    let mut model = model;
    let want = model.predict(&splits.test.inputs, splits.test.len()).expect("runs");
    assert_eq!(test["glassbox_outputs"].1, want);
    assert_eq!(test["glassbox_outputs"].0, vec![raw.test.len(), 8, 10]);

    assert_bad_input(
        &["export", nb_path.to_str().expect("utf-8"), "--pytorch", dir.join("model.txt").to_str().expect("utf-8")],
        "give a Python file name",
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn every_example_and_lesson_opens_fits_its_data_and_trains_a_few_steps() {
    let examples = crate::example_notebooks();
    let lessons =
        examples.iter().filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("lesson"))).count();
    // The six lessons of the Examples menu, each a file of its own.
    assert_eq!(lessons, 6, "{examples:?}");
    for n in 1..=6 {
        let prefix = format!("lesson{n}-");
        assert!(
            examples.iter().any(|p| p.file_name().is_some_and(|f| f.to_string_lossy().starts_with(&prefix))),
            "lesson {n}"
        );
    }
    for path in &examples {
        let (nb, warnings) = Notebook::load_with_warnings(path).expect("the example loads");
        assert!(warnings.is_empty(), "{}: {warnings:?}", path.display());
        let splits = nb.data.build().expect("its data builds");
        for cell in &nb.cells {
            if let Some(name) = cell.model() {
                assert!(nb.model(name).is_some(), "{}: a cell names the missing model {name}", path.display());
            }
        }
        for m in &nb.models {
            let report = glassbox_engine::train::preflight(&m.graph, &m.training, &splits)
                .unwrap_or_else(|e| panic!("{}: {} does not fit its data: {e}", path.display(), m.name));
            assert!(report.is_ok());
            let mut model = glassbox_engine::tensor::Model::new(&m.graph, m.training.seed).expect("compiles");
            let mut opt = glassbox_engine::tensor::Optimizer::new(m.training.optimizer);
            let batches = splits.train.epoch_batches(m.training.batch_size, m.training.seed);
            for (i, idx) in batches.iter().take(3).enumerate() {
                let stats = model
                    .train_step(&splits.train.batch(idx), m.training.loss, &mut opt, i as u64)
                    .unwrap_or_else(|e| panic!("{}: {} cannot train: {e}", path.display(), m.name));
                assert!(stats.loss.is_finite() && stats.grads_finite, "{}: {}", path.display(), m.name);
            }
        }
    }
}

#[test]
fn export_writes_the_handout_and_every_cells_figure_from_the_command_line() {
    let dir = temp_dir("handout");
    let (page, figures) = (dir.join("reverse.html"), dir.join("figures"));
    let notebook = glassbox::assets_path("assets/notebooks/reverse-transformer.json");
    let args = [notebook.to_str().expect("utf-8"), "--html", page.to_str().expect("utf-8"), "--figures"];
    let out = glassbox(&[&["export"], &args[..], &[figures.to_str().expect("utf-8"), "--size", "print"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(&page).expect("the handout");
    let options = roxmltree::ParsingOptions { allow_dtd: true, ..roxmltree::ParsingOptions::default() };
    let doc = roxmltree::Document::parse_with_options(&html, options).expect("the handout is well formed");
    let nb = Notebook::load(&notebook).expect("loads");
    assert_eq!(doc.descendants().filter(|n| n.has_tag_name("section")).count(), nb.cells.len());
    // The attention cell's figure: a map per head, the tokens along its sides.
    let attention = nb.cells.iter().position(|c| matches!(c.kind, CellKind::Attention { .. }));
    let attention = attention.expect("the example has an attention cell");
    let stem = glassbox::figures::file_stem(attention, &nb.cells[attention].kind);
    let svg = std::fs::read_to_string(figures.join(format!("{stem}.svg"))).expect("the attention figure");
    let svg = roxmltree::Document::parse(&svg).expect("parses");
    assert_eq!(svg.root_element().attribute("width"), Some("3508"));
    let texts: Vec<&str> =
        svg.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).map(str::trim).collect();
    assert!(texts.iter().any(|t| t.ends_with("head 1")) && texts.contains(&"looked at"), "{texts:?}");
    let png = image::open(figures.join(format!("{stem}.png"))).expect("a PNG");
    assert_eq!((png.width(), png.height()), (3508, 2480));
    // A handout file that is not HTML is refused before anything runs.
    let out =
        glassbox(&["export", notebook.to_str().expect("utf-8"), "--html", dir.join("h.txt").to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give an .html file name"));
    let _ = std::fs::remove_dir_all(&dir);
}
