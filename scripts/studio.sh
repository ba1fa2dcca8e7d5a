#!/usr/bin/env bash
# The studio on the bundled sample, with everything set up: installs what is missing, builds,
# turns assets/sample/forest.laz (a synthetic scan from our own simulator) into a project
# (ingest → reconstruct → simulate) once, and opens it with a local dev chain for minting.
# Extra arguments go to `twinmint studio` (e.g. --tab growth, --screenshot shot.png).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --locked -p twinmint-app
T="${CARGO_TARGET_DIR:-target}/debug/twinmint"
P=demo/forest.twinmint
if [ ! -f "$P/simulation.json" ]; then
  "$T" ingest assets/sample/forest.laz -o "$P" --force
  "$T" reconstruct "$P"
  "$T" simulate "$P" --runs 500
fi
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "studio: no display; running under Xvfb (use --screenshot FILE to see it)" >&2
  exec xvfb-run -a -s "-screen 0 1920x1080x24" "$T" studio "$P" --dev-chain "$@"
fi
exec "$T" studio "$P" --dev-chain "$@"
