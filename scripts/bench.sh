#!/usr/bin/env bash
# Runs the training-step benchmark of Glassbox and the PyTorch reference in the same go, with the
# same number of threads, and prints the ratios (Glassbox / PyTorch; lower is better).
#   scripts/bench.sh [THREADS]     (default: every core)
# PyTorch is installed on first use into a virtual environment (~/.cache/glassbox-torch; PyPI's
# default wheel, several GB). Set TORCH_PYTHON to use a Python that already has torch.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-$(nproc)}
py=$(scripts/torch-python.sh torch)
ours=$(RAYON_NUM_THREADS=$threads cargo bench -q --bench train_step 2>/dev/null | grep -E '^(lenet|mlp|transformer|lstm) ')
theirs=$(THREADS=$threads "$py" benches/reference_pytorch.py)
echo "Glassbox:"; echo "$ours" | sed 's/^/  /'
echo "PyTorch $("$py" -c 'import torch; print(torch.__version__)'):"; echo "$theirs" | sed 's/^/  /'
echo "ratio (Glassbox median / PyTorch median), $threads thread(s):"
for model in lenet mlp transformer lstm; do
  a=$(echo "$ours" | awk -v m=$model '$1==m {sub("median_ms=","",$2); print $2}')
  b=$(echo "$theirs" | awk -v m=$model '$1==m {sub("median_ms=","",$2); print $2}')
  awk -v m=$model -v a="$a" -v b="$b" 'BEGIN { printf "  %-6s %.3f ms / %.3f ms = %.2fx\n", m, a, b, a / b }'
done
