#!/usr/bin/env bash
# Exports every example notebook's model to PyTorch (`glassbox export --pytorch`) and checks the
# export: Glassbox's outputs on the test split reproduced to 1e-5 relative, and one training
# epoch of the exported script alone and with two processes (torchrun, gloo). Prints a table;
# exits 1 on any mismatch. PyTorch and safetensors are installed on first use (see
# scripts/torch-python.sh).
#   scripts/check-export.sh [NOTEBOOK.json ...]     (default: every example notebook, and
#   tests/fixtures/export/ with the layer kinds and settings no example uses)
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(scripts/torch-python.sh torch safetensors)
cargo build --release -q
notebooks=("$@")
[ ${#notebooks[@]} -gt 0 ] || notebooks=(assets/notebooks/*.json tests/fixtures/export/*.json)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$py" scripts/check_export.py "$PWD/target/release/glassbox" "$work" "${notebooks[@]}"
