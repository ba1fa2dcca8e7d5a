#!/usr/bin/env bash
# Installs what TwinMint's build, demo and tests need on Debian. Idempotent: skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
# wgpu compute and the studio render through Vulkan; lavapipe (mesa) is the CPU driver used
# where no GPU exists, xvfb gives the Bevy window a display in headless runs.
dpkg -s mesa-vulkan-drivers >/dev/null 2>&1 || need_apt+=(mesa-vulkan-drivers)
dpkg -s xvfb >/dev/null 2>&1 || need_apt+=(xvfb)
dpkg -s pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
# reconstruct/tests/export.rs cross-checks the GeoTIFF writer with tifffile.
dpkg -s python3-tifffile >/dev/null 2>&1 || need_apt+=(python3-tifffile)
# The PDF reports are checked by rendering their pages (pdftoppm) and extracting their text
# (pdftotext).
dpkg -s poppler-utils >/dev/null 2>&1 || need_apt+=(poppler-utils)
# A survey's merged DTM/CHM are Cloud Optimized GeoTIFFs, checked by GDAL's own COG validator.
for pkg in gdal-bin python3-gdal; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
# app/tests/survey_executors.rs runs a survey as a real Slurm array job on a single-node cluster.
for pkg in slurm-wlm munge; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
# .venv-tools (below) needs venv + ensurepip, a separate package on Debian's own python3.
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || need_apt+=(python3-venv)
# The studio window (winit on X11) loads these at run time; xvfb-run needs xauth.
for pkg in libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6 libx11-xcb1 xauth; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  echo "setup: apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# npm toolchains under mint/: the Solidity compiler, OpenZeppelin and the anvil dev chain
# (mint/contracts), the reference IPFS importer the CID tests compare against (mint/js), and the
# Khronos glTF validator the GLB export is checked with (reconstruct/js).
# Pinned by package-lock.json; reinstalled only when the lockfile changed.
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: npm not found; install Node.js 20+ (Debian: nodejs npm)" >&2
  exit 1
fi
for dir in mint/contracts mint/js reconstruct/js; do
  if [ -f "$dir/package-lock.json" ]; then
    stamp="$dir/node_modules/.twinmint-lock.sha256"
    want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
      echo "setup: npm ci --prefix $dir"
      npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
      echo "$want" > "$stamp"
    fi
  fi
done

# Python tools the tests call (pinned in scripts/tools-requirements.txt): the Kubernetes API
# schema check of `submit k8s`. Reinstalled only when the requirements changed.
stamp=".venv-tools/.twinmint-req.sha256"
want="$(sha256sum scripts/tools-requirements.txt | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: pip install -r scripts/tools-requirements.txt into .venv-tools"
  python3 -m venv .venv-tools
  .venv-tools/bin/pip install -q --disable-pip-version-check -r scripts/tools-requirements.txt
  echo "$want" > "$stamp"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust 1.95 (rustup) first" >&2
  exit 1
fi
