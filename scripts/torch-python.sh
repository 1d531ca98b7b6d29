#!/usr/bin/env bash
# Prints the path of a Python that has the given PyPI packages, installing them on first use into
# one virtual environment shared by the reference scripts (~/.cache/glassbox-torch; PyTorch's
# default wheel is several GB). Set TORCH_PYTHON to use a Python that already has them.
#   py=$(scripts/torch-python.sh torch captum scikit-learn)
set -euo pipefail
if [ -n "${TORCH_PYTHON:-}" ]; then
  echo "$TORCH_PYTHON"
  exit 0
fi
venv="${XDG_CACHE_HOME:-$HOME/.cache}/glassbox-torch"
# The module each package is imported as.
imports=$(for p in "$@"; do case $p in scikit-learn) echo sklearn ;; *) echo "${p//-/_}" ;; esac; done | paste -sd, -)
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import $imports" 2>/dev/null; then
  echo "installing $* into $venv (first run only)..." >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "$@" >&2
fi
echo "$venv/bin/python"
