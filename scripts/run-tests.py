#!/usr/bin/env python3
"""Run every test of the workspace, several test binaries at once.

`cargo test` runs its test binaries one after the other. On a 2-core machine a third of their
time left a core idle: the kill test sleeps while the verb it interrupts runs, the Slurm test
waits on the scheduler, the chain tests wait on anvil, the CLI tests wait on child processes.
This builds the same binaries (`cargo test --no-run`, the same units as `cargo test`), runs
`--jobs` of them at a time, longest first (the durations of the last run, kept in the target
folder; a fresh clone starts from the list below), prints each binary's whole output as it
finishes, as `cargo test` would, and then runs the doctests. A failing binary fails the run;
the others still run, and the failures are listed at the end.

Each binary runs as cargo runs it: in its package's folder, with CARGO_MANIFEST_DIR set. Tests inside one binary already run concurrently, so a binary that shares
a machine-wide resource (an X display, a port) serialises within itself; across binaries the
tests take free ports and their own temporary folders.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time

# The slowest binaries of a fresh clone's first run (2-core machine, 2026-12-06), named as the
# durations file names them: started first so the pool does not end on one long binary alone.
SLOW_FIRST = [
    "photogrammetry/tests/synthetic.rs",
    "app/tests/photos_cli.rs",
    "app/tests/kill.rs",
    "app/tests/studio_window.rs",
    "app/tests/survey_executors.rs",
    "tests/tests/resurvey.rs",
    "reconstruct/tests/pipes.rs",
    "reconstruct/tests/ground.rs",
    "survey/tests/tiles.rs",
    "capture/tests/fuzz_readers.rs",
    "photogrammetry/tests/brighton.rs",
]


def build():
    """Build the tests; return their executables as dicts."""
    cmd = ["cargo", "test", "--workspace", "--locked", "--no-run",
           "--message-format=json-render-diagnostics"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    bins = []
    for line in proc.stdout:
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
            continue
        if not msg["profile"]["test"]:
            continue
        target = msg["target"]
        pkg = os.path.dirname(msg["manifest_path"])
        src = os.path.relpath(target["src_path"], pkg)
        bins.append({
            "exe": msg["executable"],
            "dir": pkg,
            "package": os.path.basename(pkg),
            "label": "unittests " + src if "lib" in target["kind"] or "bin" in target["kind"]
            else src,
        })
    if proc.wait() != 0:
        sys.exit(proc.returncode)
    return bins


class Pool:
    def __init__(self, jobs):
        self.jobs = jobs
        self.lock = threading.Lock()
        self.running = {}
        self.failed = []
        self.times = {}
        self.stopping = False

    def run_one(self, b):
        env = dict(os.environ, CARGO_MANIFEST_DIR=b["dir"])
        start = time.monotonic()
        try:
            proc = subprocess.Popen([b["exe"]], cwd=b["dir"], env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        except OSError as e:
            with self.lock:
                self.failed.append(f"{b['package']} {b['label']} (cannot start {b['exe']}: {e})")
            return
        with self.lock:
            self.running[b["exe"]] = proc
        out, _ = proc.communicate()
        took = time.monotonic() - start
        with self.lock:
            del self.running[b["exe"]]
            self.times[key(b)] = took
            sys.stdout.write(f"     Running {b['label']} ({b['exe']}) [{b['package']}, {took:.1f} s]\n")
            sys.stdout.write(out.decode("utf-8", "replace"))
            sys.stdout.flush()
            if proc.returncode != 0:
                self.failed.append(f"{b['package']} {b['label']} (exit {proc.returncode})")

    def run(self, bins):
        queue = list(bins)

        def worker():
            while True:
                with self.lock:
                    if not queue or self.stopping:
                        return
                    b = queue.pop(0)
                self.run_one(b)

        threads = [threading.Thread(target=worker) for _ in range(self.jobs)]
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.5)
        except KeyboardInterrupt:
            with self.lock:
                self.stopping = True
                for proc in self.running.values():
                    try:
                        os.killpg(proc.pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
            for t in threads:
                t.join()
            raise


def key(b):
    return f"{b['package']}/{b['label']}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int,
                    default=int(os.environ.get("TWINMINT_TEST_JOBS", "2")),
                    help="test binaries at once (default $TWINMINT_TEST_JOBS or 2)")
    args = ap.parse_args()
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    times_file = os.path.join(target, "twinmint-test-times.json")
    try:
        with open(times_file) as f:
            last = json.load(f)
    except (OSError, ValueError):
        last = {}

    bins = build()
    seed = {k: len(SLOW_FIRST) - i for i, k in enumerate(SLOW_FIRST)}
    # Longest first: last run's seconds, else the seed list's rank (ahead of unknown binaries).
    bins.sort(key=lambda b: (-last.get(key(b), 0.0), -seed.get(key(b), 0), key(b)))
    started = time.monotonic()
    pool = Pool(max(1, args.jobs))
    pool.run(bins)
    wall = time.monotonic() - started
    total = sum(pool.times.values())
    # The sum of the binaries' own wall times, each slowed by the one beside it: not what one
    # after the other would take.
    print(f"\n{len(bins)} test binaries in {wall:.0f} s with {args.jobs} at a time "
          f"({total:.0f} s summed over the binaries)", flush=True)
    try:
        os.makedirs(target, exist_ok=True)
        tmp = times_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(pool.times, f, indent=1, sort_keys=True)
        os.replace(tmp, times_file)
    except OSError as e:
        print(f"note: could not keep the test durations in {times_file}: {e}", flush=True)
    doc = subprocess.run(["cargo", "test", "--workspace", "--locked", "--doc"])
    if doc.returncode != 0:
        pool.failed.append("doctests")
    if pool.failed:
        print("\nfailed:\n  " + "\n  ".join(pool.failed))
        sys.exit(101)
    print("every test binary and doctest passed")


if __name__ == "__main__":
    main()
