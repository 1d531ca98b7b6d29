#!/usr/bin/env bash
# Times every attribution method on the benchmark LeNet and one 28x28 input, in Glassbox
# (`cargo bench --bench inspection` with ONLY=explain) and in Captum, in the same go with the same
# number of threads, and prints the ratios (Glassbox / Captum; lower is better).
#   scripts/bench-explain.sh [THREADS]     (default: every core)
# PyTorch, Captum and scikit-learn (Captum's LIME and Kernel SHAP fit with it) are installed on
# first use into the benchmark's virtual environment (~/.cache/glassbox-torch). Set TORCH_PYTHON
# to use a Python that already has them.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-$(nproc)}
py=$(scripts/torch-python.sh torch captum scikit-learn)
ours=$(ONLY=explain RAYON_NUM_THREADS=$threads cargo bench -q --bench inspection 2>/dev/null | grep '^explain ')
theirs=$(THREADS=$threads "$py" benches/reference_captum.py 2>/dev/null)
echo "Glassbox:"; echo "$ours" | sed 's/^/  /'
echo "Captum $("$py" -c 'import captum; print(captum.__version__)') on PyTorch $("$py" -c 'import torch; print(torch.__version__)'):"
echo "$theirs" | sed 's/^/  /'
echo "ratio (Glassbox median / Captum median), $threads thread(s):"
for method in saliency ig gradcam occlusion lime shap; do
  a=$(echo "$ours" | awk -v m=$method '$2==m {sub("median_ms=","",$3); print $3}')
  b=$(echo "$theirs" | awk -v m=$method '$2==m {sub("median_ms=","",$3); print $3}')
  awk -v m=$method -v a="$a" -v b="$b" 'BEGIN { printf "  %-9s %8.3f ms / %8.3f ms = %.2fx\n", m, a, b, a / b }'
done
