//! A notebook's model as a self-contained PyTorch script: an `nn.Module` that mirrors the graph
//! node by node (one attribute per node with weights, named after it; `forward` computes each
//! node's output in evaluation order under its id), `load_weights` for Glassbox's safetensors
//! (converting the layouts: a Dense or recurrent weight is stored `[in, out]` here and
//! `[out, in]` in PyTorch), `normalize` with the pipeline's statistics, and a training loop with
//! the notebook's loss, optimiser, schedule, batch size and epochs that also runs under
//! `torchrun --nproc_per_node N` with `DistributedDataParallel` (gloo).
//!
//! The interface is fixed so scripts can use it: `Model()`, `load_weights(model, path)`,
//! `normalize(x)`, and `python OUT.py [--epochs N] [--data DIR]`.

use std::fmt::Write as _;

use glassbox_engine::data::{Normalization, Normalizer};
use glassbox_engine::graph::{GraphSpec, LayerSpec, SequencePooling, ShapeReport};
use glassbox_engine::tensor::{LossSpec, OptimizerSpec};
use glassbox_engine::train::{Schedule, TrainConfig};

/// What the script needs besides the graph.
pub struct ExportInput<'a> {
    pub title: &'a str,
    pub model_name: &'a str,
    pub graph: &'a GraphSpec,
    pub report: &'a ShapeReport,
    pub training: &'a TrainConfig,
    pub normalization: Normalization,
    pub normalizer: &'a Normalizer,
    /// Whether the dataset's targets are classes (else values).
    pub classes: bool,
    /// The weights file and the data folder, as the script finds them beside itself.
    pub weights_file: &'a str,
    pub data_dir: &'a str,
}

/// A Python float literal that reads back as the same f32.
fn float(v: f64) -> String {
    if v.is_finite() {
        let text = format!("{v:?}");
        if text.contains('.') || text.contains('e') {
            text
        } else {
            format!("{text}.0")
        }
    } else if v.is_nan() {
        "float('nan')".to_owned()
    } else if v > 0.0 {
        "float('inf')".to_owned()
    } else {
        "float('-inf')".to_owned()
    }
}

fn floats(values: &[f32]) -> String {
    let items: Vec<String> = values.iter().map(|&v| float(f64::from(v))).collect();
    let mut out = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(if i % 8 == 0 { ",\n    " } else { ", " });
        }
        out.push_str(item);
    }
    out.push(']');
    out
}

/// A node id as a Python identifier (ids are letters, digits and underscores already, but a
/// keyword or a leading digit would not do).
fn ident(id: &str) -> String {
    let mut name: String = id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if name.chars().next().is_none_or(|c| c.is_ascii_digit()) || PYTHON_WORDS.contains(&name.as_str()) {
        name.insert_str(0, "n_");
    }
    name
}

const PYTHON_WORDS: [&str; 12] =
    ["input", "x", "self", "lambda", "class", "def", "import", "from", "in", "is", "return", "pass"];

fn shape_args(shape: &[usize]) -> String {
    shape.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// The script.
///
/// # Errors
/// A graph whose shapes do not fit (it cannot be trained either).
#[allow(clippy::too_many_lines, reason = "one arm per layer kind reads best in one place")]
pub fn pytorch_script(e: &ExportInput<'_>) -> Result<String, String> {
    if !e.report.is_ok() {
        return Err("the model's shapes do not fit: fix the graph first (its model cell lists the problems)".to_owned());
    }
    let shape = |id: &str| e.report.shape_of(id).map(<[usize]>::to_vec).unwrap_or_default();
    let inputs_of = |id: &str| e.report.nodes.get(id).map(|n| n.inputs.clone()).unwrap_or_default();
    let input_id = e.report.input.clone().ok_or("the model has no Input node")?;
    let output_id = e.report.output.clone().ok_or("the model has no output node")?;
    let input_shape = shape(&input_id);
    let mut init = String::new();
    let mut forward = String::new();
    let mut load = String::new();
    let mut helpers: Vec<&str> = Vec::new();
    for id in &e.report.order {
        let Some(node) = e.graph.node(id) else { continue };
        let (v, ins) = (ident(id), inputs_of(id));
        let x = ins.first().map_or_else(|| "x".to_owned(), |i| ident(i));
        let in_shape = ins.first().map(|i| shape(i)).unwrap_or_default();
        let last = in_shape.last().copied().unwrap_or(0);
        let out_shape = shape(id);
        let param = |p: &str| format!("tensors[\"{id}.{p}\"]");
        let mut line = |text: String| {
            let _ = writeln!(forward, "        {v} = {text}");
        };
        match &node.layer {
            LayerSpec::Input { .. } => line(format!("x.reshape(x.shape[0], {})", shape_args(&input_shape))),
            LayerSpec::Dense { units, bias } => {
                let _ = writeln!(
                    init,
                    "        self.{v} = nn.Linear({last}, {units}, bias={})",
                    if *bias { "True" } else { "False" }
                );
                line(format!("self.{v}({x})"));
                let _ = writeln!(
                    load,
                    "        model.{v}.weight.copy_({}.t())  # [in, out] here, [out, in] in nn.Linear",
                    param("weight")
                );
                if *bias {
                    let _ = writeln!(load, "        model.{v}.bias.copy_({})", param("bias"));
                }
            }
            LayerSpec::Conv2d { filters, kernel, stride, padding } => {
                let channels = in_shape.first().copied().unwrap_or(1);
                let _ = writeln!(
                    init,
                    "        self.{v} = nn.Conv2d({channels}, {filters}, {kernel}, stride={stride}, padding={padding})"
                );
                line(format!("self.{v}({x})"));
                let _ = writeln!(load, "        model.{v}.weight.copy_({})", param("weight"));
                let _ = writeln!(load, "        model.{v}.bias.copy_({})", param("bias"));
            }
            LayerSpec::MaxPool2d { size, stride } => {
                line(format!("F.max_pool2d({x}, {size}, stride={})", stride.unwrap_or(*size)));
            }
            LayerSpec::AvgPool2d { size, stride } => {
                line(format!("F.avg_pool2d({x}, {size}, stride={})", stride.unwrap_or(*size)));
            }
            LayerSpec::GlobalAvgPool => line(format!("{x}.mean(dim=(2, 3))")),
            LayerSpec::Flatten => line(format!("{x}.flatten(1)")),
            LayerSpec::Reshape { shape: to } => line(format!("{x}.reshape({x}.shape[0], {})", shape_args(to))),
            LayerSpec::Relu => line(format!("F.relu({x})")),
            LayerSpec::LeakyRelu { slope } => line(format!("F.leaky_relu({x}, {})", float(f64::from(*slope)))),
            LayerSpec::Tanh => line(format!("torch.tanh({x})")),
            LayerSpec::Sigmoid => line(format!("torch.sigmoid({x})")),
            LayerSpec::Gelu => line(format!("F.gelu({x})")),
            LayerSpec::Softmax => line(format!("F.softmax({x}, dim=-1)")),
            LayerSpec::Dropout { rate } => {
                let _ = writeln!(init, "        self.{v} = nn.Dropout({})", float(f64::from(*rate)));
                line(format!("self.{v}({x})"));
            }
            LayerSpec::BatchNorm { momentum, eps } => {
                let channels = in_shape.first().copied().unwrap_or(1);
                let kind = if in_shape.len() == 3 { "BatchNorm2d" } else { "BatchNorm1d" };
                let _ = writeln!(
                    init,
                    "        self.{v} = nn.{kind}({channels}, eps={}, momentum={})",
                    float(f64::from(*eps)),
                    float(f64::from(*momentum))
                );
                line(format!("self.{v}({x})"));
                let _ = writeln!(load, "        model.{v}.weight.copy_({})", param("gamma"));
                let _ = writeln!(load, "        model.{v}.bias.copy_({})", param("beta"));
                let _ = writeln!(load, "        model.{v}.running_mean.copy_({})", param("running_mean"));
                let _ = writeln!(load, "        model.{v}.running_var.copy_({})", param("running_var"));
            }
            LayerSpec::LayerNorm { eps } => {
                let _ = writeln!(init, "        self.{v} = nn.LayerNorm({last}, eps={})", float(f64::from(*eps)));
                line(format!("self.{v}({x})"));
                let _ = writeln!(load, "        model.{v}.weight.copy_({})", param("gamma"));
                let _ = writeln!(load, "        model.{v}.bias.copy_({})", param("beta"));
            }
            LayerSpec::Add => {
                let terms: Vec<String> = ins.iter().map(|i| ident(i)).collect();
                line(terms.join(" + "));
            }
            LayerSpec::Concat => {
                let parts: Vec<String> = ins.iter().map(|i| ident(i)).collect();
                line(format!("torch.cat([{}], dim=1)", parts.join(", ")));
            }
            LayerSpec::Embedding { vocab, dim } => {
                let _ = writeln!(init, "        self.{v} = nn.Embedding({vocab}, {dim})");
                line(format!("self.{v}({x}.long())"));
                let _ = writeln!(load, "        model.{v}.weight.copy_({})", param("weight"));
            }
            LayerSpec::PositionalEncoding { learned } => {
                let (time, dim) = (out_shape.first().copied().unwrap_or(1), out_shape.get(1).copied().unwrap_or(1));
                if *learned {
                    let _ = writeln!(init, "        self.{v} = nn.Parameter(torch.zeros({time}, {dim}))");
                    let _ = writeln!(load, "        model.{v}.copy_({})", param("weight"));
                } else {
                    helpers.push("sinusoids");
                    let _ = writeln!(init, "        self.register_buffer(\"{v}\", sinusoids({time}, {dim}))");
                }
                line(format!("{x} + self.{v}"));
            }
            LayerSpec::Rnn(r) | LayerSpec::Lstm(r) | LayerSpec::Gru(r) => {
                let kind = match node.layer {
                    LayerSpec::Rnn(_) => "RNN",
                    LayerSpec::Lstm(_) => "LSTM",
                    _ => "GRU",
                };
                let _ = writeln!(
                    init,
                    "        self.{v} = nn.{kind}({last}, {}, batch_first=True, bidirectional={})",
                    r.hidden,
                    if r.bidirectional { "True" } else { "False" }
                );
                line(format!("self.{v}({x})[0]"));
                if !r.return_sequences {
                    // The last state of each direction: the forward one at the end, the
                    // reverse one at the start.
                    if r.bidirectional {
                        let h = r.hidden;
                        line(format!("torch.cat([{v}[:, -1, :{h}], {v}[:, 0, {h}:]], dim=1)"));
                    } else {
                        line(format!("{v}[:, -1]"));
                    }
                }
                for suffix in if r.bidirectional { &["", "_reverse"][..] } else { &[""][..] } {
                    for (ours, theirs, t) in [
                        ("weight_ih", "weight_ih_l0", ".t()"),
                        ("weight_hh", "weight_hh_l0", ".t()"),
                        ("bias_ih", "bias_ih_l0", ""),
                        ("bias_hh", "bias_hh_l0", ""),
                    ] {
                        let _ = writeln!(
                            load,
                            "        model.{v}.{theirs}{suffix}.copy_({}{t})",
                            param(&format!("{ours}{suffix}"))
                        );
                    }
                }
            }
            LayerSpec::Attention { heads, dim, causal } => {
                helpers.push("attention");
                let _ = writeln!(
                    init,
                    "        self.{v} = MultiHeadAttention({last}, {dim}, {heads}, causal={})",
                    if *causal { "True" } else { "False" }
                );
                line(format!("self.{v}({x})"));
                for (ours, theirs, t) in [
                    ("qkv_weight", "qkv.weight", ".t()"),
                    ("qkv_bias", "qkv.bias", ""),
                    ("out_weight", "out.weight", ".t()"),
                    ("out_bias", "out.bias", ""),
                ] {
                    let _ = writeln!(load, "        model.{v}.{theirs}.copy_({}{t})", param(ours));
                }
            }
            LayerSpec::TransformerBlock { heads, ff, causal } => {
                helpers.push("attention");
                helpers.push("block");
                let _ = writeln!(
                    init,
                    "        self.{v} = TransformerBlock({last}, {heads}, {ff}, causal={})",
                    if *causal { "True" } else { "False" }
                );
                line(format!("self.{v}({x})"));
                for (ours, theirs, t) in [
                    ("ln1_gamma", "ln1.weight", ""),
                    ("ln1_beta", "ln1.bias", ""),
                    ("qkv_weight", "attention.qkv.weight", ".t()"),
                    ("qkv_bias", "attention.qkv.bias", ""),
                    ("out_weight", "attention.out.weight", ".t()"),
                    ("out_bias", "attention.out.bias", ""),
                    ("ln2_gamma", "ln2.weight", ""),
                    ("ln2_beta", "ln2.bias", ""),
                    ("ff1_weight", "ff1.weight", ".t()"),
                    ("ff1_bias", "ff1.bias", ""),
                    ("ff2_weight", "ff2.weight", ".t()"),
                    ("ff2_bias", "ff2.bias", ""),
                ] {
                    let _ = writeln!(load, "        model.{v}.{theirs}.copy_({}{t})", param(ours));
                }
            }
            LayerSpec::SequencePool { mode } => line(match mode {
                SequencePooling::Mean => format!("{x}.mean(dim=1)"),
                SequencePooling::Last => format!("{x}[:, -1]"),
                SequencePooling::First => format!("{x}[:, 0]"),
            }),
        }
    }
    let _ = writeln!(forward, "        return {}", ident(&output_id));
    helpers.sort_unstable();
    helpers.dedup();

    let t = e.training;
    let mut out = String::new();
    let _ = write!(
        out,
        r#""""{title}: the model "{model}", exported from Glassbox.

Model()                  the network, one attribute per node of the Glassbox graph (same names)
load_weights(model, p)   loads Glassbox's safetensors weights, converting the layouts
normalize(x)             the dataset pipeline's normalisation, for raw inputs as the data gives them
python THIS.py [--epochs N] [--data DIR]
                         trains with the notebook's loss, optimiser, schedule, batch size and
                         epochs; torchrun --nproc_per_node N THIS.py trains with N processes
                         (DistributedDataParallel over gloo, each process a batch of {batch})
"""
import argparse
import math
import os

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
WEIGHTS = os.path.join(HERE, "{weights}")
DATA = os.path.join(HERE, "{data}")
"#,
        title = e.title.replace('"', "'"),
        model = e.model_name,
        batch = t.batch_size,
        weights = e.weights_file,
        data = e.data_dir,
    );
    // Normalisation.
    let (shift, scale) = match e.normalization {
        Normalization::None => (vec![0.0], vec![1.0]),
        _ => (e.normalizer.shift.clone(), e.normalizer.scale.clone()),
    };
    let _ = write!(
        out,
        r#"
# The pipeline's normalisation ({how:?}), fitted on the training split in Glassbox: each input
# value less SHIFT, over SCALE ({per}).
SHIFT = {shift}
SCALE = {scale}


def normalize(x):
    x = torch.as_tensor(x, dtype=torch.float64)
    flat = x.reshape(x.shape[0], -1)
    shift = torch.tensor(SHIFT, dtype=torch.float64)
    scale = torch.tensor(SCALE, dtype=torch.float64)
    return ((flat - shift) / scale).to(torch.float32).reshape(x.shape)
"#,
        how = e.normalization,
        per = if shift.len() == 1 { "one value for every input" } else { "one per input value" },
        shift = floats(&shift),
        scale = floats(&scale),
    );
    if helpers.contains(&"sinusoids") {
        out.push_str(
            r#"

def sinusoids(time, dim):
    """Vaswani et al.'s position codes: sin at even features, cos at odd ones."""
    pe = torch.zeros(time, dim, dtype=torch.float64)
    for t in range(time):
        for c in range(dim):
            angle = t / 10000.0 ** ((c // 2 * 2) / dim)
            pe[t, c] = math.sin(angle) if c % 2 == 0 else math.cos(angle)
    return pe.to(torch.float32)
"#,
        );
    }
    if helpers.contains(&"attention") {
        out.push_str(
            r#"

class MultiHeadAttention(nn.Module):
    """Self-attention as Glassbox computes it: queries, keys and values from one projection
    (columns q, then k, then v, each head's block side by side), scores scaled by 1/sqrt(head
    size), later positions masked when causal, softmax, the mixed values through `out`."""

    def __init__(self, features, dim, heads, causal=False):
        super().__init__()
        self.dim, self.heads, self.causal = dim, heads, causal
        self.qkv = nn.Linear(features, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x):
        n, t, _ = x.shape
        dh = self.dim // self.heads
        q, k, v = self.qkv(x).split(self.dim, dim=-1)
        q, k, v = (z.reshape(n, t, self.heads, dh).transpose(1, 2) for z in (q, k, v))
        scores = q @ k.transpose(-2, -1) / math.sqrt(dh)
        if self.causal:
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(mask, float("-inf"))
        mixed = scores.softmax(dim=-1) @ v
        return self.out(mixed.transpose(1, 2).reshape(n, t, self.dim))
"#,
        );
    }
    if helpers.contains(&"block") {
        out.push_str(
            r#"

class TransformerBlock(nn.Module):
    """Glassbox's pre-norm block: u = x + Attention(LayerNorm1(x)), y = u + W2 GELU(W1 LayerNorm2(u))."""

    def __init__(self, dim, heads, ff, causal=False):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim, eps=1e-5)
        self.attention = MultiHeadAttention(dim, dim, heads, causal)
        self.ln2 = nn.LayerNorm(dim, eps=1e-5)
        self.ff1 = nn.Linear(dim, ff)
        self.ff2 = nn.Linear(ff, dim)

    def forward(self, x):
        u = x + self.attention(self.ln1(x))
        return u + self.ff2(F.gelu(self.ff1(self.ln2(u))))
"#,
        );
    }
    let _ = write!(
        out,
        r#"

class Model(nn.Module):
    """{model}: inputs of shape {input_shape:?} per sample; each line of `forward` is one node."""

    def __init__(self):
        super().__init__()
{init}
    def forward(self, x):
{forward}

def load_weights(model, path=WEIGHTS):
    """Loads the weights Glassbox saved (safetensors, named <node>.<parameter>)."""
    tensors = load_file(path)
    with torch.no_grad():
{load}    return model
"#,
        model = e.model_name,
        input_shape = input_shape,
        init = if init.is_empty() { "        pass\n".to_owned() } else { init },
        forward = forward,
        load = if load.is_empty() { "        pass\n".to_owned() } else { load },
    );
    // Loss, optimiser, schedule.
    let loss = match (t.loss, e.classes) {
        (LossSpec::CrossEntropy, true) => {
            "F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1).long())".to_owned()
        }
        (_, true) => "F.mse_loss(out.reshape(out.shape[0], -1), F.one_hot(y.long(), out.shape[-1]).reshape(out.shape[0], -1).float())".to_owned(),
        (_, false) => "F.mse_loss(out.reshape(out.shape[0], -1), y.reshape(y.shape[0], -1))".to_owned(),
    };
    let optimizer = match t.optimizer {
        OptimizerSpec::Sgd { lr, momentum, nesterov, weight_decay } => format!(
            "torch.optim.SGD(params, lr={}, momentum={}, nesterov={}, weight_decay={})",
            float(lr),
            float(momentum),
            if nesterov { "True" } else { "False" },
            float(weight_decay)
        ),
        OptimizerSpec::Adam { lr, beta1, beta2, eps, weight_decay } => format!(
            "torch.optim.Adam(params, lr={}, betas=({}, {}), eps={}, weight_decay={})",
            float(lr),
            float(beta1),
            float(beta2),
            float(eps),
            float(weight_decay)
        ),
        OptimizerSpec::AdamW { lr, beta1, beta2, eps, weight_decay } => format!(
            "torch.optim.AdamW(params, lr={}, betas=({}, {}), eps={}, weight_decay={})",
            float(lr),
            float(beta1),
            float(beta2),
            float(eps),
            float(weight_decay)
        ),
    };
    let schedule = match t.schedule {
        Schedule::Constant => "BASE_LR".to_owned(),
        Schedule::Step { every_epochs, factor } => {
            format!("BASE_LR * {} ** (step // steps_per_epoch // {})", float(factor), every_epochs.max(1))
        }
        Schedule::Cosine { min_factor } => format!(
            "BASE_LR * ({m} + (1 - {m}) * 0.5 * (1 + math.cos(math.pi * min(step / max(epochs * steps_per_epoch, 1), 1.0))))",
            m = float(min_factor)
        ),
    };
    let _ = write!(
        out,
        r#"

LOSS = "{loss_name:?}"
BATCH_SIZE = {batch}
EPOCHS = {epochs}
BASE_LR = {lr}
WARMUP_STEPS = {warmup}
SEED = {seed}


def loss_of(out, y):
    return {loss}


def make_optimizer(params):
    return {optimizer}


def learning_rate(step, steps_per_epoch, epochs):
    """The notebook's schedule, step by step (with its linear warm-up)."""
    rate = {schedule}
    if step < WARMUP_STEPS:
        rate *= (step + 1) / WARMUP_STEPS
    return rate


def load_split(folder, name):
    """x: raw inputs as the dataset gives them; y: class ids (stored as floats) or target values."""
    tensors = load_file(os.path.join(folder, name + ".safetensors"))
    return normalize(tensors["x"]), tensors["y"]


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        out = model(x)
        loss = loss_of(out, y).item()
        correct = {accuracy}
    model.train()
    return loss, correct


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--data", default=DATA, help="the folder with train.safetensors and test.safetensors")
    parser.add_argument("--weights", default=None, help="start from these Glassbox weights (default: fresh)")
    args = parser.parse_args()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        torch.distributed.init_process_group("gloo")
    torch.manual_seed(SEED)
    model = Model()
    if args.weights:
        load_weights(model, args.weights)
    net = nn.parallel.DistributedDataParallel(model) if world > 1 else model
    x_train, y_train = load_split(args.data, "train")
    x_test, y_test = load_split(args.data, "test")
    optimizer = make_optimizer(net.parameters())
    # Every process takes the same number of samples (a few are left out of each epoch when they
    # do not divide evenly), so all of them take the same steps and meet at every gradient sum.
    share = len(x_train) // world
    steps_per_epoch = math.ceil(share / BATCH_SIZE)
    generator = torch.Generator().manual_seed(SEED)
    step = 0
    for epoch in range(args.epochs):
        # Every process shuffles the same way and takes its own share of the samples.
        order = torch.randperm(len(x_train), generator=generator)[:share * world][rank::world]
        total = 0.0
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start:start + BATCH_SIZE]
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, steps_per_epoch, args.epochs)
            optimizer.zero_grad()
            loss = loss_of(net(x_train[batch]), y_train[batch])
            loss.backward()
            optimizer.step()
            total += loss.item()
            step += 1
        if rank == 0:
            test_loss, accuracy = evaluate(model, x_test, y_test)
            print(f"epoch {{epoch + 1}}: training loss {{total / max(steps_per_epoch, 1):.4f}}, "
                  f"test loss {{test_loss:.4f}}, test accuracy {{accuracy:.4f}}", flush=True)
    if world > 1:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
"#,
        loss_name = t.loss,
        batch = t.batch_size,
        epochs = t.epochs,
        lr = float(t.optimizer.lr()),
        warmup = t.warmup_steps,
        seed = t.seed,
        loss = loss,
        optimizer = optimizer,
        schedule = schedule,
        // Accuracy where there are classes; a regression has none.
        accuracy = if e.classes {
            r#"(out.argmax(dim=-1).reshape(-1) == y.reshape(-1).long()).float().mean().item()"#
        } else {
            r#"float("nan")  # numbers to predict: no accuracy"#
        },
    );
    Ok(out)
}

/// Why an export failed: the input cannot be exported (the notebook, the weights), or a file
/// could not be written.
#[derive(Debug)]
pub enum ExportError {
    Input(String),
    Write(String),
}

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Input(m) | Self::Write(m) => f.write_str(m),
        }
    }
}

/// Writes model `def` of `nb` as a PyTorch script at `pytorch` (module name `stem`), with its
/// weights (`weights`, else its starting weights) as `STEM.safetensors` and the raw splits as
/// `STEM_data/{train,test}.safetensors` beside it; returns what was written, in words.
///
/// # Errors
/// Data or weights that cannot be used, or a file that cannot be written.
pub fn write_pytorch(
    nb: &crate::notebook::Notebook,
    def: &crate::notebook::ModelDef,
    weights: Option<&glassbox_engine::train::WeightsFile>,
    pytorch: &std::path::Path,
    stem: &str,
) -> Result<String, ExportError> {
    use glassbox_engine::files;
    use std::path::Path;
    let (splits, normalizer) =
        nb.data.build_raw().map_err(|e| ExportError::Input(format!("the notebook's dataset cannot be built: {e}")))?;
    let mut model = glassbox_engine::tensor::Model::new(&def.graph, def.training.seed)
        .map_err(|e| ExportError::Input(e.to_string()))?;
    if let Some(file) = weights {
        glassbox_engine::train::load_weights_bytes(&mut model, &file.bytes, &file.source, false)
            .map_err(|e| ExportError::Input(e.to_string()))?;
    }
    let dir = pytorch.parent().map(Path::to_path_buf).unwrap_or_default();
    let (weights_file, data_dir) = (format!("{stem}.safetensors"), format!("{stem}_data"));
    let script = crate::export::pytorch_script(&crate::export::ExportInput {
        title: &nb.title,
        model_name: &def.name,
        graph: &def.graph,
        report: model.report(),
        training: &def.training,
        normalization: nb.data.pipeline.normalization,
        normalizer: &normalizer,
        classes: matches!(splits.train.targets, glassbox_engine::data::Targets::Classes(_)),
        weights_file: &weights_file,
        data_dir: &data_dir,
    })
    .map_err(ExportError::Input)?;
    let write = |path: &Path, bytes: &[u8]| {
        files::write_atomically(path, bytes)
            .map_err(|e| ExportError::Write(format!("cannot write {}: {e}", files::brief_path(path))))
    };
    write(pytorch, script.as_bytes())?;
    let weights_bytes =
        glassbox_engine::train::weights_to_bytes(&model).map_err(|e| ExportError::Write(e.to_string()))?;
    write(&dir.join(&weights_file), &weights_bytes)?;
    std::fs::create_dir_all(dir.join(&data_dir))
        .map_err(|e| ExportError::Write(format!("cannot make {}: {e}", files::brief_path(&dir.join(&data_dir)))))?;
    for (name, split) in [("train", &splits.train), ("test", &splits.test)] {
        let count = split.len();
        let mut x_shape = vec![count];
        x_shape.extend(&split.shape);
        let (y_values, per) = match &split.targets {
            glassbox_engine::data::Targets::Classes(labels) => {
                (labels.iter().map(|&l| l as f32).collect::<Vec<_>>(), split.targets_per_sample)
            }
            glassbox_engine::data::Targets::Values(v) => (v.clone(), split.targets_per_sample),
        };
        let y_shape = if per == 1 { vec![count] } else { vec![count, per] };
        let mut tensors = vec![
            glassbox_engine::tensor::NodeOutput { id: "x".into(), shape: x_shape, values: split.inputs.clone() },
            glassbox_engine::tensor::NodeOutput { id: "y".into(), shape: y_shape, values: y_values },
        ];
        if name == "test" && count > 0 {
            // What Glassbox computes for the test split with these weights, to check the export by.
            let mut normalised = split.clone();
            normalizer.apply(&mut normalised);
            let outputs = model.predict(&normalised.inputs, count).map_err(|e| ExportError::Write(e.to_string()))?;
            let mut shape = vec![count];
            shape.extend(model.output_shape());
            tensors.push(glassbox_engine::tensor::NodeOutput { id: "glassbox_outputs".into(), shape, values: outputs });
        }
        let bytes =
            glassbox_engine::inspect::tensors_to_bytes(&tensors).map_err(|e| ExportError::Write(e.to_string()))?;
        write(&dir.join(&data_dir).join(format!("{name}.safetensors")), &bytes)?;
    }
    Ok(format!(
        "{} written: the model \"{}\" as PyTorch, with {weights_file} ({}) and {data_dir}/ ({} training and {} test samples) beside it",
        files::brief_path(pytorch),
        def.name,
        if weights.is_some() { "its trained weights" } else { "its starting weights" },
        splits.train.len(),
        splits.test.len()
    ))
}
