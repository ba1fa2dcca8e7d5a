#!/usr/bin/env bash
# Installs what TwinMint's build, demo and tests need on Debian. Idempotent: skips what is there.
set -euo pipefail

need_apt=()
# wgpu compute and the studio render through Vulkan; lavapipe (mesa) is the CPU driver used
# where no GPU exists, xvfb gives the Bevy window a display in headless runs.
dpkg -s mesa-vulkan-drivers >/dev/null 2>&1 || need_apt+=(mesa-vulkan-drivers)
dpkg -s xvfb >/dev/null 2>&1 || need_apt+=(xvfb)
dpkg -s pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
if ((${#need_apt[@]})); then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  echo "setup: apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust 1.95 (rustup) first" >&2
  exit 1
fi
