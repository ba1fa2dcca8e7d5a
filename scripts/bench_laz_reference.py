"""Whole-process timing for `twinmint bench laz`: run a command N times and report the best wall
time and the peak resident memory of the child (getrusage RUSAGE_CHILDREN), as JSON on stdout.

    python bench_laz_reference.py --repeat 3 -- COMMAND ARGS...
    python bench_laz_reference.py --repeat 3 --laspy FILE   # laspy + lazrs (parallel) read of FILE

The laspy form runs `python -c` in a child process, so both sides are measured the same way:
process start, imports, reading every point record and the scaled x/y/z arrays.
"""
import json
import resource
import subprocess
import sys
import time

LASPY = (
    "import sys, laspy\n"
    "las = laspy.read(sys.argv[1], laz_backend=laspy.LazBackend.LazrsParallel)\n"
    "x, y, z = las.x, las.y, las.z\n"
    "print(len(las.points))\n"
)


def main():
    args = sys.argv[1:]
    repeat = 3
    if args[:1] == ["--repeat"]:
        repeat = int(args[1])
        args = args[2:]
    if args[:1] == ["--laspy"]:
        cmd = [sys.executable, "-c", LASPY, args[1]]
    elif args[:1] == ["--"]:
        cmd = args[1:]
    else:
        sys.exit("usage: bench_laz_reference.py [--repeat N] (--laspy FILE | -- COMMAND...)")
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"seconds": best, "peak_bytes": peak_kb * 1024, "command": cmd[:2]}))


main()
