#!/usr/bin/env bash
# What to run before pushing: formatting, lints with warnings as errors, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
scripts/test.sh
