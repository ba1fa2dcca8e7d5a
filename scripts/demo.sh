#!/usr/bin/env bash
# The demo: set up, build the CLI, and run capture on the bundled synthetic sample
# (assets/sample/forest.laz, made by `twinmint synth`): inspect, ingest, reconstruct, simulate,
# fingerprint, package and verify it (see README for minting on a local chain: `twinmint chain dev`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --locked -p twinmint-app
T=target/debug/twinmint
if [ -n "${CARGO_TARGET_DIR:-}" ]; then T="$CARGO_TARGET_DIR/debug/twinmint"; fi
"$T" info assets/sample/forest.laz
"$T" ingest assets/sample/forest.laz -o demo/forest.twinmint --force
"$T" reconstruct demo/forest.twinmint
"$T" simulate demo/forest.twinmint --runs 500
"$T" fingerprint demo/forest.twinmint
"$T" package demo/forest.twinmint --surveyor-name "Demo Surveyor" --name "Demo forest plot"
"$T" verify demo/forest.twinmint/package --project demo/forest.twinmint
echo "project written to demo/forest.twinmint"
