#!/usr/bin/env python3
"""Writes the sequence-model example notebooks (assets/notebooks/{reverse-transformer,sentiment-lstm,names-lstm}.json)."""
import json, os, sys

def seq(layers):
    nodes, edges, counts = [], [], {}
    for kind, params in layers:
        label = kind
        counts[label] = counts.get(label, 0) + 1
        nid = "input" if kind == "Input" else f"{label.lower()}{counts[label]}"
        if nodes:
            edges.append({"from": nodes[-1]["id"], "to": nid})
        nodes.append({"id": nid, "layer": dict(kind=kind, **params)})
    return {"nodes": nodes, "edges": edges, "output": nodes[-1]["id"]}

def training(lr, batch, epochs):
    return {"optimizer": {"kind": "Adam", "lr": lr}, "loss": "CrossEntropy", "batch_size": batch,
            "epochs": epochs, "schedule": {"kind": "Constant"}, "warmup_steps": 0, "seed": 0}

def notebook(title, source, models, cells, test_fraction=0.1, speed=None):
    view = {"log_scale": False, "compare_training": False, "node_previews": False}
    if speed:
        view["steps_per_second"] = speed
    return {"format_version": 3, "title": title,
            "data": {"source": source, "pipeline": {"test_fraction": test_fraction, "normalization": "None", "seed": 0}},
            "models": models, "cells": cells, "view": view}

def md(text):
    return {"kind": "Markdown", "text": text}

def cell(kind, model, beside=False):
    c = {"kind": kind, "model": model}
    if beside:
        c["beside"] = True
    return c

rec = lambda hidden: {"hidden": hidden, "return_sequences": False, "bidirectional": False}

reverse = notebook(
    "Attention: a Transformer learns to reverse",
    {"kind": "Sequence", "task": "Reverse", "length": 8, "vocab": 10, "samples": 12000, "seed": 0},
    [{"name": "Transformer", "graph": seq([
        ("Input", {"shape": [8]}),
        ("Embedding", {"vocab": 10, "dim": 32}),
        ("PositionalEncoding", {"learned": False}),
        ("TransformerBlock", {"heads": 4, "ff": 64, "causal": False}),
        ("TransformerBlock", {"heads": 4, "ff": 64, "causal": False}),
        ("Dense", {"units": 10}),
    ]), "training": training(0.003, 32, 3)}],
    [md("# A Transformer learns to reverse\nEach sample is 8 symbols (0 to 9); the answer is the same symbols backwards, one class per position. "
        "The model embeds each symbol, adds a code for its position, and runs two **Transformer blocks** (attention, then a small network at each position). "
        "Before training, the attention maps below are blurred: every position looks everywhere. Train, and watch one head of the second block turn into the **anti-diagonal**: "
        "position 1 looks at position 8, position 2 at position 7, and so on. That is the whole algorithm, found by gradient descent.\n\n"
        "Questions: which block's heads form the anti-diagonal? What do the other heads do? Drag the **Moment** slider back to the start and forward again."),
     {"kind": "Dataset"},
     cell("Model", "Transformer"),
     cell("Training", "Transformer", beside=True),
     cell("Attention", "Transformer"),
     cell("Predictions", "Transformer"),
     cell("Activations", "Transformer")],
    speed=60.0)

sentiment = notebook(
    "Memory: an LSTM reads reviews",
    {"kind": "Sentiment", "samples": 6000, "seed": 0},
    [{"name": "LSTM", "graph": seq([
        ("Input", {"shape": [12]}),
        ("Embedding", {"vocab": 66, "dim": 32}),
        ("LSTM", rec(64)),
        ("Dropout", {"rate": 0.3}),
        ("Dense", {"units": 64}),
        ("ReLU", {}),
        ("Dense", {"units": 2}),
    ]), "training": training(0.003, 32, 6)},
     {"name": "Attention", "graph": seq([
        ("Input", {"shape": [12]}),
        ("Embedding", {"vocab": 66, "dim": 32}),
        ("PositionalEncoding", {"learned": False}),
        ("MultiHeadAttention", {"heads": 4, "dim": 32, "causal": False}),
        ("SequencePool", {"mode": "Mean"}),
        ("Dense", {"units": 2}),
    ]), "training": training(0.003, 32, 6)}],
    [md("# An LSTM reads reviews\nShort reviews with negation: *the plot was not very good* is negative, *i did not hate the film* positive. "
        "The first model is the classic text classifier: word vectors, an **LSTM** of 64 units that reads the words one by one, dropout, 64 ReLU units and a score per class. "
        "The second reads all words at once with **attention** and averages them.\n\n"
        "Train both, then type your own sentence in the sample chooser (try *not good*, *not bad*). In the Activations cell, the LSTM's **forget gate** and **cell state** show, word by word, what it keeps. "
        "In the Attention cell, hover a word to see which words it looks at: does *good* look at *not*?"),
     {"kind": "Dataset"},
     cell("Model", "LSTM"),
     cell("Training", "LSTM", beside=True),
     cell("Predictions", "LSTM"),
     cell("Activations", "LSTM"),
     cell("Model", "Attention"),
     cell("Training", "Attention", beside=True),
     cell("Attention", "Attention"),
     cell("Evaluation", "Attention")],
    test_fraction=0.2)

names = notebook(
    "Writing names, one letter at a time",
    {"kind": "CharWindows", "text": "FirstNames", "window": 8, "samples": 60000, "seed": 0},
    [{"name": "Names", "graph": seq([
        ("Input", {"shape": [8]}),
        ("Embedding", {"vocab": 30, "dim": 24}),
        ("LSTM", rec(128)),
        ("Dense", {"units": 30}),
    ]), "training": training(0.003, 32, 6)}],
    [md("# Writing names, one letter at a time\nEach sample is the last 8 letters of a first name (dots before its start), and the class is the letter that comes next (a full stop ends the name). "
        "An **LSTM** reads the 8 letters and scores every possible next letter. After training, the model writes new names by sampling a letter, adding it, and reading again.\n\n"
        "Type the start of a name in the sample chooser and see which letters the model expects next. Which letters does it find hard to predict, and why?"),
     {"kind": "Dataset"},
     cell("Model", "Names"),
     cell("Training", "Names", beside=True),
     cell("Predictions", "Names"),
     cell("Activations", "Names"),
     cell("Evaluation", "Names")],
    test_fraction=0.05)

out = sys.argv[1] if len(sys.argv) > 1 else "assets/notebooks"
for name, nb in [("reverse-transformer", reverse), ("sentiment-lstm", sentiment), ("names-lstm", names)]:
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(nb, f, indent=2)
        f.write("\n")
