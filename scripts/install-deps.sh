#!/usr/bin/env bash
# Installs what a fresh Debian machine needs to build Glassbox and open its window.
# Building needs only gcc (present with the Rust toolchain); the window needs X11/GL runtime
# libraries, and native file dialogs need libdbus. Safe to run again: it skips what is there.
set -euo pipefail
need=()
for lib in libX11.so.6 libX11-xcb.so.1 libXcursor.so.1 libXi.so.6 libxkbcommon-x11.so.0 libGL.so.1 libdbus-1.so.3; do
  ldconfig -p | grep -q "$lib" || { need=(libx11-6 libx11-xcb1 libxcursor1 libxi6 libxkbcommon-x11-0 libgl1 libglx-mesa0 libgl1-mesa-dri libdbus-1-3); break; }
done
command -v cc >/dev/null || need+=(gcc)
if ((${#need[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
