#!/usr/bin/env bash
# Frame time of the real window (drawing included) and cold start, under Xvfb with Mesa's
# software OpenGL (no GPU needed), as examples/window_frames.rs describes.
#   scripts/bench-window.sh [NOTEBOOK] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
notebook=${1:-assets/notebooks/spiral-mlp.json}
runs=${2:-3}
command -v Xvfb >/dev/null || { echo "needs Xvfb (apt-get install xvfb libgl1-mesa-dri)" >&2; exit 1; }
cargo build --release --example window_frames >/dev/null
disp=:$((150 + RANDOM % 50))
Xvfb "$disp" -screen 0 1400x900x24 >/dev/null 2>&1 & xvfb=$!
trap 'kill "$xvfb" 2>/dev/null || true' EXIT
sleep 1
for _ in $(seq "$runs"); do
  GLASSBOX_LAUNCHED_NS=$(date +%s%N) DISPLAY=$disp LIBGL_ALWAYS_SOFTWARE=1 \
    ./target/release/examples/window_frames "$notebook" 2>/dev/null
done
