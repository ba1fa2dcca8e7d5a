#!/usr/bin/env python3
"""Fail when a test sits inside a crate's `src/`.

Every `[lib]` and the `twinmint` `[[bin]]` have `test = false`, so that the test build compiles
only test code (a unit test inside a library compiles the whole library a second time with
`cfg(test)`). The price: a `#[test]` or `#[cfg(test)]` written in `src/` would never run, and
nothing would say so. This check says so. Tests go in `<crate>/tests/` — a library's own tests in
`<crate>/tests/units/`, one module per source module.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
PATTERN = re.compile(r"^\s*#\[(test|cfg\(test\)|tokio::test)\]", re.M)

found = []
for crate in sorted(os.listdir(ROOT)):
    src = os.path.join(ROOT, crate, "src")
    if not os.path.isfile(os.path.join(ROOT, crate, "Cargo.toml")) or not os.path.isdir(src):
        continue
    for dirpath, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith(".rs"):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8") as f:
                if PATTERN.search(f.read()):
                    found.append(os.path.relpath(path, ROOT))
if found:
    print("tests inside src/ never run (every [lib] and [[bin]] has test = false); move them to "
          "<crate>/tests/units/:")
    for p in found:
        print("  " + p)
    sys.exit(1)
print("test layout: no tests inside src/ (they live in each crate's tests/)")
