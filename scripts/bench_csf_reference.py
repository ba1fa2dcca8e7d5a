#!/usr/bin/env python3
"""Run the C++ reference Cloth Simulation Filter (jianboqi/CSF, PyPI `cloth-simulation-filter`,
Zhang et al. 2016, Remote Sensing 8(6):501) on a LAS/LAZ tile and print its time and DTM error
as JSON, so `twinmint bench reconstruct` can compare TwinMint's ground step with it.

Timed: `setPointCloud` + `do_filtering` (the whole C++ filter: rasterisation, cloth simulation,
slope smoothing, classification), best of `--repeat` runs. Not timed: reading the file, the DTM.
The wheel is built with OpenMP on Linux, so it uses every core (set OMP_NUM_THREADS to change).

DTM error: the ground points are triangulated (Delaunay TIN, linear in each triangle: scipy's
LinearNDInterpolator, the same method as `reconstruct::dtm` with `DtmMethod::Tin`) onto a
`--dtm-resolution` grid laid out like `reconstruct::Raster::covering` over the cloud's bounds;
the RMSE is taken over the cells the TIN defines (inside the ground points' convex hull) against
  * the exact terrain of a `twinmint synth` truth file (`--truth`, default `<tile>.truth.json`
    when it exists), and/or
  * a TIN of the file's own classification (`--reference-classes 2` or `2,9`), as the
    Topography.laz acceptance does.

Setup (pinned versions in scripts/bench-requirements.txt):
    python3 -m venv .venv-bench
    .venv-bench/bin/pip install -r scripts/bench-requirements.txt
Example:
    cargo run --release -p twinmint-app -- synth -o /tmp/tile.laz --points 1500000 --size 150
    .venv-bench/bin/python scripts/bench_csf_reference.py /tmp/tile.laz --resolution 0.5 --rigidness 1
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np


def terrain_height(terrain, x, y):
    """Evaluate capture::synth::Terrain::height (tilted plane + sinusoids) vectorised."""
    dx = x - terrain["reference_xy"][0]
    dy = y - terrain["reference_xy"][1]
    z = terrain["base_z"] + terrain["slope"][0] * dx + terrain["slope"][1] * dy
    for w in terrain["waves"]:
        k = 2.0 * math.pi / w["wavelength_m"]
        th = math.radians(w["direction_deg"])
        z = z + w["amplitude_m"] * np.sin(k * (dx * math.cos(th) + dy * math.sin(th)) + w["phase_rad"])
    return z


def grid_centres(xmin, ymin, xmax, ymax, res):
    """Cell centres of reconstruct::Raster::covering (north-up, row 0 at the top)."""
    width = max(1, int(math.ceil((xmax - xmin) / res)))
    height = max(1, int(math.ceil((ymax - ymin) / res)))
    ytop = ymin + height * res
    cx = xmin + (np.arange(width) + 0.5) * res
    cy = ytop - (np.arange(height) + 0.5) * res
    gx, gy = np.meshgrid(cx, cy)
    return gx.ravel(), gy.ravel()


def tin(points, gx, gy):
    from scipy.interpolate import LinearNDInterpolator

    if len(points) < 3:
        return np.full(gx.shape, np.nan)
    f = LinearNDInterpolator(points[:, :2], points[:, 2])
    return f(gx, gy)


def rmse(a, b):
    ok = np.isfinite(a) & np.isfinite(b)
    if not ok.any():
        return None, 0
    d = a[ok] - b[ok]
    return float(np.sqrt(np.mean(d * d))), int(ok.sum())


def package_version():
    try:
        from importlib.metadata import version

        return version("cloth-simulation-filter")
    except Exception:  # noqa: BLE001 - informational only
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tile", help="LAS/LAZ file")
    ap.add_argument("--truth", help="synth truth JSON (default: <tile>.truth.json if present)")
    ap.add_argument("--reference-classes", help="comma list of classes forming the reference DTM, e.g. 2 or 2,9")
    ap.add_argument("--resolution", type=float, default=0.5, help="cloth_resolution (m)")
    ap.add_argument("--rigidness", type=int, default=1)
    ap.add_argument("--class-threshold", type=float, default=0.5)
    ap.add_argument("--time-step", type=float, default=0.65)
    ap.add_argument("--iterations", type=int, default=500)
    ap.add_argument("--no-slope-smooth", action="store_true")
    ap.add_argument("--dtm-resolution", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=1, help="time the best of N runs")
    ap.add_argument("--labels-out", help="write the ground labels (uint8 per point) here")
    args = ap.parse_args()

    import CSF
    import laspy

    las = laspy.read(args.tile)
    xyz = np.column_stack([np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)]).astype(np.float64)
    n = len(xyz)

    best = None
    runs = []
    run_ground = []
    ground_idx = None
    for _ in range(max(1, args.repeat)):
        csf = CSF.CSF()
        csf.params.bSloopSmooth = not args.no_slope_smooth
        csf.params.cloth_resolution = args.resolution
        csf.params.rigidness = args.rigidness
        csf.params.class_threshold = args.class_threshold
        csf.params.time_step = args.time_step
        csf.params.interations = args.iterations
        ground, off = CSF.VecInt(), CSF.VecInt()
        # The C++ code logs to stdout; keep stdout for our JSON.
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        try:
            t0 = time.perf_counter()
            csf.setPointCloud(xyz)
            csf.do_filtering(ground, off, False)
            dt = time.perf_counter() - t0
        finally:
            os.dup2(saved, 1)
            os.close(devnull)
            os.close(saved)
        runs.append(round(dt, 4))
        run_ground.append(len(ground))
        if best is None or dt < best:
            best = dt
        ground_idx = np.asarray(ground, dtype=np.int64)

    is_ground = np.zeros(n, dtype=bool)
    is_ground[ground_idx] = True
    if args.labels_out:
        is_ground.astype(np.uint8).tofile(args.labels_out)

    xmin, ymin = xyz[:, 0].min(), xyz[:, 1].min()
    xmax, ymax = xyz[:, 0].max(), xyz[:, 1].max()
    gx, gy = grid_centres(xmin, ymin, xmax, ymax, args.dtm_resolution)
    ours = tin(xyz[is_ground], gx, gy)

    out = {
        "implementation": "jianboqi/CSF (PyPI cloth-simulation-filter %s)" % package_version(),
        "tile": args.tile,
        "points": n,
        "threads": os.environ.get("OMP_NUM_THREADS", str(os.cpu_count())),
        "params": {
            "cloth_resolution": args.resolution,
            "rigidness": args.rigidness,
            "class_threshold": args.class_threshold,
            "time_step": args.time_step,
            "iterations": args.iterations,
            "slope_smooth": not args.no_slope_smooth,
        },
        "seconds": best,
        "runs_seconds": runs,
        "runs_ground_points": run_ground,
        "ground_points": int(is_ground.sum()),
        "dtm_resolution_m": args.dtm_resolution,
    }

    truth_path = args.truth
    if truth_path is None:
        base = args.tile.rsplit(".", 1)[0]
        if os.path.exists(base + ".truth.json"):
            truth_path = base + ".truth.json"
    if truth_path:
        with open(truth_path) as f:
            truth = json.load(f)
        r, cells = rmse(ours, terrain_height(truth["terrain"], gx, gy))
        out["dtm_rmse_vs_truth_m"] = r
        out["dtm_cells_vs_truth"] = cells
        ids = None
        for dim in las.point_format.extra_dimension_names:
            if dim == "truth_part":
                ids = np.asarray(las["truth_part"])
        if ids is not None:
            terrain = ids == 0
            out["ground_recall"] = float((is_ground & terrain).sum() / max(1, terrain.sum()))
            out["ground_precision"] = float((is_ground & terrain).sum() / max(1, is_ground.sum()))

    if args.reference_classes:
        classes = [int(c) for c in args.reference_classes.split(",")]
        cls = np.asarray(las.classification)
        ref_mask = np.isin(cls, classes)
        ref = tin(xyz[ref_mask], gx, gy)
        r, cells = rmse(ours, ref)
        out["reference_classes"] = classes
        out["dtm_rmse_vs_reference_m"] = r
        out["dtm_cells_vs_reference"] = cells
        out["label_agreement"] = float((is_ground == ref_mask).mean())

    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
