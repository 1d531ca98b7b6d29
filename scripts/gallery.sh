#!/usr/bin/env bash
# Takes the README's gallery: each lesson opened in a virtual display (Xvfb, 1280x720), trained
# for as long as its text says, then one slide of presentation mode saved as
# docs/gallery/<lesson>.png. Installs Xvfb, xdotool and ImageMagick with apt when missing.
#   scripts/gallery.sh            # every lesson
#   scripts/gallery.sh lesson5    # the lessons whose file name starts so
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v Xvfb >/dev/null || need+=(xvfb)
command -v xdotool >/dev/null || need+=(xdotool)
command -v import >/dev/null || need+=(imagemagick)
if ((${#need[@]})); then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
cargo build --release -q
mkdir -p docs/gallery
# lesson file, seconds of training, the slide shown (0 = the first)
lessons=(
  "lesson1-a-first-network 30 1"
  "lesson2-convolutions 36 6"
  "lesson3-why-did-it-say-that 55 6"
  "lesson4-memory-in-sequences 28 4"
  "lesson5-attention 38 4"
  "lesson6-explaining-a-table 14 5"
)
for entry in "${lessons[@]}"; do
  read -r name seconds slide <<<"$entry"
  [[ $name == "${1:-}"* ]] || continue
  disp=:$((300 + RANDOM % 100))
  home=$(mktemp -d)
  Xvfb "$disp" -screen 0 1280x720x24 >/dev/null 2>&1 & xvfb=$!
  sleep 1
  HOME=$home DISPLAY=$disp LIBGL_ALWAYS_SOFTWARE=1 ./target/release/glassbox "assets/notebooks/$name.json" >/dev/null 2>&1 & app=$!
  sleep 4
  win=$(DISPLAY=$disp xdotool search --sync --onlyvisible --name . 2>/dev/null | head -1 || true)
  [ -n "$win" ] && DISPLAY=$disp xdotool windowmove "$win" 0 0 windowsize "$win" 1280 720 windowfocus "$win" 2>/dev/null || true
  sleep 1
  DISPLAY=$disp xdotool mousemove 640 400 key space   # Train
  sleep "$seconds"
  DISPLAY=$disp xdotool key F5
  for ((k = 0; k < slide; k++)); do DISPLAY=$disp xdotool key Right; sleep 0.3; done
  DISPLAY=$disp xdotool mousemove 1279 719   # no tooltip in the picture
  sleep 3
  DISPLAY=$disp import -window root "docs/gallery/$name.png"
  echo "docs/gallery/$name.png"
  kill "$app" 2>/dev/null || true; sleep 0.5; kill "$xvfb" 2>/dev/null || true
  rm -rf "$home"
done
