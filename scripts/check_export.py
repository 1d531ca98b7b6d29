"""Checks `glassbox export --pytorch` for every model of every notebook given, and of every
template (`glassbox new --template`): the exported model, loaded with the exported weights,
computes Glassbox's outputs on the test split (to 1e-5 relative), and the exported script trains
one epoch to completion alone and with two processes (torchrun, gloo). Prints one table row per
model; exits 1 when any check fails.

    python scripts/check_export.py GLASSBOX_BINARY WORKDIR [--no-templates] NOTEBOOK.json...
"""
import importlib.util
import json
import re
import os
import subprocess
import sys

import torch
from safetensors.torch import load_file


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def main():
    glassbox, work, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    templates = "--no-templates" not in rest
    notebooks = [a for a in rest if a != "--no-templates"]
    os.makedirs(work, exist_ok=True)
    jobs = []
    for nb in notebooks:
        with open(nb) as f:
            models = [m["name"] for m in json.load(f).get("models", [])]
        stem = os.path.splitext(os.path.basename(nb))[0]
        jobs += [(nb, model, f"{stem}/{model}") for model in models]
    if templates:
        names = run([glassbox, "new", "--list"]).stdout.splitlines()
        for template in names:
            path = os.path.join(work, re.sub(r"[^a-z0-9]+", "_", template.lower()).strip("_") + ".json")
            made = run([glassbox, "new", path, "--template", template])
            if made.returncode != 0:
                print(f"template {template}: {made.stderr.strip()}")
                sys.exit(1)
            jobs.append((path, "Model", "template: " + template))
    rows, failed = [], False
    for k, (nb, model_name, label) in enumerate(jobs):
        name = "m%02d_" % k + re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:40]
        folder = os.path.join(work, name)
        os.makedirs(folder, exist_ok=True)
        weights = os.path.join(folder, "trained.safetensors")
        # A few training steps first, so the weights are not the seed's alone.
        trained = run([glassbox, "train", nb, "--model", model_name, "--steps", "30", "--out", weights, "--overwrite"])
        if trained.returncode != 0:
            rows.append((label, "train failed: " + trained.stderr.strip()[-200:], "", "", ""))
            failed = True
            continue
        script = os.path.join(folder, name + ".py")
        exported = run([glassbox, "export", nb, "--model", model_name, "--weights", weights, "--pytorch", script])
        if exported.returncode != 0:
            rows.append((label, "export failed: " + exported.stderr.strip()[-200:], "", "", ""))
            failed = True
            continue
        spec = importlib.util.spec_from_file_location(name, script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        model = module.load_weights(module.Model())
        model.eval()
        test = load_file(os.path.join(folder, name + "_data", "test.safetensors"))
        with torch.no_grad():
            ours = model(module.normalize(test["x"]))
        want = test["glassbox_outputs"]
        gap = ((ours - want).abs() / (want.abs() + 1.0)).max().item()
        logits_ok = ours.shape == want.shape and gap <= 1e-5
        one = run([sys.executable, script, "--epochs", "1"], timeout=1800)
        env = dict(os.environ, OMP_NUM_THREADS="1")
        torchrun = os.path.join(os.path.dirname(sys.executable), "torchrun")
        two = run([torchrun, "--nproc_per_node", "2", "--master_port", "29533", script, "--epochs", "1"],
                  timeout=1800, env=env)
        last = lambda r: (r.stdout.strip().splitlines() or ["(no output)"])[-1] if r.returncode == 0 \
            else "FAILED: " + r.stderr.strip()[-300:]
        rows.append((label, f"{tuple(want.shape)}", f"{gap:.2e} {'ok' if logits_ok else 'MISMATCH'}", last(one), last(two)))
        failed |= not logits_ok or one.returncode != 0 or two.returncode != 0
    print(f"{'model':<46} {'outputs':<16} {'max gap':<16} one process, 1 epoch | two processes (gloo), 1 epoch")
    for r in rows:
        print(f"{r[0]:<46} {r[1]:<16} {r[2]:<16} {r[3]} | {r[4]}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
