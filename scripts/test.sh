#!/usr/bin/env bash
# Runs every test of the workspace: the README's test command, and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo test --workspace --all-targets
cargo test --workspace --doc
