#!/usr/bin/env python3
"""Check that `scripts/test.sh` reuses every compiled unit of `scripts/studio.sh`'s build.

Cargo gives a dependency a new hash (and compiles it again) whenever the features or profile it
is built with differ. A dev-dependency that switches on a feature of a crate the studio also
uses (proptest did it to rand 0.10, which Bevy's maths crate depends on) makes the test build
recompile that crate and everything above it — most of Bevy. This compares cargo's unit graphs
(`--unit-graph`, read with RUSTC_BOOTSTRAP=1 because the flag is unstable) of the two builds and
fails, naming the units, when any unit of the studio build is not part of the test build.
"""
import json
import os
import subprocess
import sys

ENV = dict(os.environ, RUSTC_BOOTSTRAP="1")


def graph(args):
    out = subprocess.run(
        ["cargo", *args, "--locked", "--unit-graph", "-Z", "unstable-options"],
        check=True, capture_output=True, text=True, env=ENV,
    ).stdout
    units = set()
    for u in json.loads(out)["units"]:
        profile = dict(u["profile"])
        profile.pop("name", None)  # dev vs test: the same settings, the same artifacts
        units.add((u["pkg_id"], u["target"]["name"], u["mode"],
                   tuple(sorted(u["features"])), json.dumps(profile, sort_keys=True)))
    return units


studio = graph(["build", "-p", "twinmint-app"])  # what scripts/studio.sh builds
tests = graph(["test", "--workspace"])  # what scripts/test.sh builds
missing = sorted(studio - tests)
if missing:
    print(f"{len(missing)} of {len(studio)} units of the studio build are built again by the tests:")
    for pkg, target, mode, features, _ in missing[:40]:
        print(f"  {pkg.split('#')[-1]} {target} ({mode}) features {list(features)}")
    sys.exit(1)
print(f"build reuse: all {len(studio)} units of the studio build are reused by the test build "
      f"({len(tests) - len(studio)} more units: test targets and test-only dependencies)")
