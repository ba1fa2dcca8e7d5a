#!/usr/bin/env bash
# Regenerates the bundled demo sample with TwinMint's own scan simulator (no fetched data):
# a 60 m × 60 m conifer/broadleaf plot on rolling terrain, drone LiDAR at ~40 pts/m².
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --locked -q -p twinmint-app -- synth -q \
  --scan als --scene forest --seed 7 --size 60 --points 150000 \
  -o assets/sample/forest.laz
