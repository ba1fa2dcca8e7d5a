//! The viewer engine's tests (octree, LOD, colour maps, COPC nodes): integration tests, so the
//! app library is not compiled a second time in test mode.

mod octree {
    use capture::PointCloud;
    use std::path::Path;
    use twinmint_app::viewer::node::spread;
    use twinmint_app::viewer::node::{NO_NODE, NodeKey, OctreeError};
    use twinmint_app::viewer::octree::*;

    pub(crate) mod tests {
        use super::*;
        use capture::ExtraColumn;

        /// Deterministic pseudo-random stream for test clouds.
        pub(crate) struct Rng(u64);
        impl Rng {
            pub fn new(seed: u64) -> Self {
                Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
            }
            pub fn next(&mut self) -> f64 {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                (self.0 >> 11) as f64 / (1u64 << 53) as f64
            }
        }

        /// Terrain over `size` × `size` m at UTM-like coordinates, with a dense "tree" cluster in
        /// one corner, all attributes, and the point index + 1 as treeID (so tests can trace each
        /// point back).
        pub(crate) fn test_cloud(n: usize, size: f64, seed: u64) -> PointCloud {
            let mut rng = Rng::new(seed);
            let mut abs = Vec::with_capacity(n);
            for i in 0..n {
                let (x, y, z) = if i % 4 == 0 {
                    // 25 % of the points in a 5 m cluster near (0.1, 0.1) of the plot.
                    let (cx, cy) = (0.1 * size, 0.1 * size);
                    (
                        cx + 5.0 * rng.next(),
                        cy + 5.0 * rng.next(),
                        10.0 + 8.0 * rng.next(),
                    )
                } else {
                    let (x, y) = (size * rng.next(), size * rng.next());
                    (x, y, 2.0 * (x / 30.0).sin() + 0.05 * rng.next())
                };
                abs.push([500_000.0 + x, 5_000_000.0 + y, 250.0 + z]);
            }
            let mut c = PointCloud::from_absolute(&abs);
            c.rgb = Some(
                (0..n)
                    .map(|i| [(i % 65536) as u16, 0x1234, 0xff00])
                    .collect(),
            );
            c.intensity = Some((0..n).map(|i| (i * 7 % 65536) as u16).collect());
            c.classification = Some((0..n).map(|i| (i % 3) as u8).collect());
            let ids: Vec<u32> = (1..=n as u32).collect();
            c.set_extra(ExtraColumn::from_u32(TREE_ID_COLUMN, &ids));
            c
        }

        pub(crate) fn build(cloud: &PointCloud, opts: &OctreeOptions, path: &Path) -> Octree {
            Octree::build(cloud, opts, path, &|_| {}, &|| false).unwrap()
        }

        fn small_opts() -> OctreeOptions {
            OctreeOptions {
                max_points_per_node: 5_000,
                grid_cells: 32,
                max_depth: 18,
            }
        }

        #[test]
        fn morton_spread_interleaves() {
            assert_eq!(spread(1), 1);
            assert_eq!(spread(2), 8);
            assert_eq!(spread(0x1f_ffff), 0x1249_2492_4924_9249);
            let code = spread(5) | spread(3) << 1 | spread(6) << 2;
            // x=101 y=011 z=110; each 3-bit digit is x | y << 1 | z << 2, top level first.
            assert_eq!(code, 0b101_110_011);
        }

        #[test]
        fn every_point_lands_in_exactly_one_node_and_reads_back() {
            let dir = tempfile::tempdir().unwrap();
            let cloud = test_cloud(300_000, 200.0, 1);
            let tree = build(&cloud, &small_opts(), &dir.path().join("c.octree"));
            let sum: u64 = tree.nodes.iter().map(|n| n.point_count as u64).sum();
            assert_eq!(sum, 300_000);
            assert_eq!(tree.total_points, 300_000);
            assert!(tree.nodes.len() > 20, "only {} nodes", tree.nodes.len());
            assert!(tree.attributes().tree && tree.attributes().rgb);

            let mut seen = vec![false; cloud.len()];
            for (id, node) in tree.nodes.iter().enumerate() {
                let pts = tree.read_node(id as u32).unwrap();
                assert_eq!(pts.len(), node.point_count as usize);
                let ids = pts.tree.as_ref().unwrap();
                for (k, p) in pts.positions.iter().enumerate() {
                    let i = ids[k] as usize - 1;
                    assert!(!seen[i], "point {i} in two nodes");
                    seen[i] = true;
                    // Absolute position within 1 mm of the input.
                    let want = cloud.absolute(i);
                    for a in 0..3 {
                        let got = tree.origin[a] + node.center[a] + p[a] as f64;
                        assert!(
                            (got - want[a]).abs() < 1e-3,
                            "point {i}: {got} vs {}",
                            want[a]
                        );
                        assert!(p[a].abs() as f64 <= node.half_size * (1.0 + 1e-6));
                    }
                    assert!((pts.z[k] as f64 - cloud.positions[i][2] as f64).abs() < 1e-3);
                    let rgb = cloud.rgb.as_ref().unwrap()[i];
                    assert_eq!(pts.rgb.as_ref().unwrap()[k], rgb.map(|c| (c >> 8) as u8));
                    assert_eq!(
                        pts.intensity.as_ref().unwrap()[k],
                        cloud.intensity.as_ref().unwrap()[i]
                    );
                    assert_eq!(
                        pts.class.as_ref().unwrap()[k],
                        cloud.classification.as_ref().unwrap()[i]
                    );
                }
            }
            assert!(seen.iter().all(|&s| s), "some points were never stored");
        }

        #[test]
        fn hierarchy_is_consistent() {
            let dir = tempfile::tempdir().unwrap();
            let cloud = test_cloud(100_000, 100.0, 2);
            let opts = small_opts();
            let tree = build(&cloud, &opts, &dir.path().join("c.octree"));
            assert_eq!(tree.nodes[0].key, NodeKey::ROOT);
            assert_eq!(tree.nodes[0].parent, NO_NODE);
            for (id, n) in tree.nodes.iter().enumerate() {
                assert!(n.point_count > 0);
                assert!(n.spacing > 0.0);
                let expect = tree.cube_size / opts.grid_cells as f64 / (1u64 << n.key.depth) as f64;
                assert!((n.spacing - expect).abs() < 1e-12);
                for c in n.child_ids() {
                    let ch = &tree.nodes[c as usize];
                    assert_eq!(ch.parent as usize, id);
                    assert_eq!(ch.key.depth, n.key.depth + 1);
                    assert!((ch.half_size * 2.0 - n.half_size).abs() < 1e-9);
                }
                // Interior nodes are subsamples: at most one point per grid cell.
                if !n.is_leaf() {
                    let pts = tree.read_node(id as u32).unwrap();
                    let cells: std::collections::HashSet<[i64; 3]> = pts
                        .positions
                        .iter()
                        .map(|p| p.map(|v| ((v as f64 + n.half_size) / n.spacing).floor() as i64))
                        .collect();
                    assert_eq!(cells.len(), pts.len(), "node {id} has two points in a cell");
                } else {
                    assert!(
                        n.point_count as usize <= opts.max_points_per_node
                            || n.key.depth == opts.max_depth
                    );
                }
            }
            // Level order: depths never decrease.
            assert!(
                tree.nodes
                    .windows(2)
                    .all(|w| w[0].key.depth <= w[1].key.depth)
            );
        }

        #[test]
        fn subsample_is_not_biased_to_cell_corners() {
            let dir = tempfile::tempdir().unwrap();
            let mut rng = Rng::new(11);
            let pts: Vec<[f64; 3]> = (0..200_000)
                .map(|_| [100.0 * rng.next(), 100.0 * rng.next(), 100.0 * rng.next()])
                .collect();
            let opts = OctreeOptions {
                max_points_per_node: 1_000,
                grid_cells: 16,
                max_depth: 18,
            };
            let tree = build(
                &PointCloud::from_absolute(&pts),
                &opts,
                &dir.path().join("u.octree"),
            );
            let root = &tree.nodes[0];
            let p = tree.read_node(0).unwrap();
            // ≈ 49 points per cell, so every cell is occupied and the root keeps one of each.
            assert_eq!(p.len(), 16 * 16 * 16);
            for k in 0..3 {
                let mean = p
                    .positions
                    .iter()
                    .map(|q| ((q[k] as f64 + root.half_size) / root.spacing).fract())
                    .sum::<f64>()
                    / p.len() as f64;
                // A first-in-Morton-order pick would sit near the cell's low corner (≈ 0.1).
                assert!(
                    (mean - 0.5).abs() < 0.03,
                    "axis {k}: mean offset in cell {mean}"
                );
            }
        }

        #[test]
        fn depth_grows_where_points_are_dense() {
            let dir = tempfile::tempdir().unwrap();
            let size = 200.0;
            let cloud = test_cloud(200_000, size, 3);
            let tree = build(&cloud, &small_opts(), &dir.path().join("c.octree"));
            // Cluster centre in local coordinates.
            let cl = [
                500_000.0 + 0.1 * size + 2.5 - cloud.origin[0],
                5_000_000.0 + 0.1 * size + 2.5 - cloud.origin[1],
            ];
            let deepest = |near: bool| {
                tree.nodes
                    .iter()
                    .filter(|n| {
                        let d =
                            ((n.center[0] - cl[0]).powi(2) + (n.center[1] - cl[1]).powi(2)).sqrt();
                        if near { d < 10.0 } else { d > 60.0 }
                    })
                    .map(|n| n.key.depth)
                    .max()
                    .unwrap()
            };
            let (dense, sparse) = (deepest(true), deepest(false));
            assert!(dense >= sparse + 2, "dense {dense} vs sparse {sparse}");
        }

        #[test]
        fn degenerate_clouds_terminate() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("d.octree");
            let opts = OctreeOptions {
                max_points_per_node: 100,
                ..Default::default()
            };
            // All points identical.
            let same = PointCloud::from_absolute(&vec![[1.0, 2.0, 3.0]; 50_000]);
            let t = build(&same, &opts, &path);
            assert_eq!(
                t.nodes.iter().map(|n| n.point_count as u64).sum::<u64>(),
                50_000
            );
            assert!(t.max_depth() <= opts.max_depth);
            // One point.
            let one = PointCloud::from_absolute(&[[1.0, 2.0, 3.0]]);
            let t = build(&one, &opts, &path);
            assert_eq!(t.nodes.len(), 1);
            let p = t.read_node(0).unwrap();
            let got = t.origin[0] + t.nodes[0].center[0] + p.positions[0][0] as f64;
            assert!((got - 1.0).abs() < 1e-6);
            // A flat line of points (zero extent on two axes).
            let line: Vec<[f64; 3]> = (0..10_000).map(|i| [i as f64 * 0.01, 0.0, 0.0]).collect();
            let t = build(&PointCloud::from_absolute(&line), &opts, &path);
            assert_eq!(t.total_points, 10_000);
            // Empty and non-finite clouds are typed errors.
            let empty = PointCloud::new([0.0; 3]);
            let e = Octree::build(&empty, &opts, &path, &|_| {}, &|| false);
            assert!(matches!(e, Err(OctreeError::EmptyCloud)));
            let mut nan = PointCloud::from_absolute(&[[0.0; 3], [1.0; 3]]);
            nan.positions[1][2] = f32::NAN;
            let e = Octree::build(&nan, &opts, &path, &|_| {}, &|| false);
            assert!(matches!(e, Err(OctreeError::NonFinite { index: 1 })));
            let bad = OctreeOptions {
                grid_cells: 100,
                ..Default::default()
            };
            let e = Octree::build(&one, &bad, &path, &|_| {}, &|| false);
            assert!(matches!(e, Err(OctreeError::InvalidOptions(_))));
        }

        #[test]
        fn cancel_stops_and_removes_the_partial_file() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("c.octree");
            let cloud = test_cloud(200_000, 100.0, 4);
            // Cancel once writing has begun (progress > 0.6), so the partial file exists.
            let last = std::cell::Cell::new(0f32);
            let calls = std::cell::Cell::new(0);
            let r = Octree::build(
                &cloud,
                &OctreeOptions::default(),
                &path,
                &|p| {
                    assert!(p >= last.get(), "progress went backwards");
                    last.set(p)
                },
                &|| {
                    calls.set(calls.get() + 1);
                    last.get() > 0.6
                },
            );
            assert!(matches!(r, Err(OctreeError::Cancelled)), "{r:?}");
            assert!(last.get() > 0.6 && last.get() < 1.0, "{}", last.get());
            assert!(!path.exists());
            let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
            assert!(leftovers.is_empty(), "left {leftovers:?}");
            // Immediate cancel.
            let r = Octree::build(&cloud, &OctreeOptions::default(), &path, &|_| {}, &|| true);
            assert!(matches!(r, Err(OctreeError::Cancelled)));
            assert!(!path.exists());
        }

        #[test]
        fn reopen_and_corruption_are_detected() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("c.octree");
            let cloud = test_cloud(50_000, 50.0, 5);
            let tree = build(&cloud, &small_opts(), &path);
            let again = Octree::open(&path).unwrap();
            assert_eq!(again.nodes, tree.nodes);
            assert_eq!(again.origin, tree.origin);
            assert_eq!(again.read_node(3).unwrap(), tree.read_node(3).unwrap());
            assert!(matches!(
                tree.read_node(tree.nodes.len() as u32),
                Err(OctreeError::NoSuchNode { .. })
            ));

            let bytes = std::fs::read(&path).unwrap();
            // Truncated file: open fails, and reads of an already open tree fail too.
            let cut = dir.path().join("cut.octree");
            std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
            assert!(matches!(
                Octree::open(&cut),
                Err(OctreeError::Truncated { .. })
            ));
            std::fs::write(&cut, &bytes[..40]).unwrap();
            assert!(matches!(
                Octree::open(&cut),
                Err(OctreeError::Truncated { .. })
            ));
            let open = Octree::open(&path).unwrap();
            let last = open.nodes.len() as u32 - 1;
            let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            f.set_len(open.nodes[last as usize].file_offset + 10)
                .unwrap();
            assert!(matches!(
                open.read_node(last),
                Err(OctreeError::Truncated { .. })
            ));

            // Garbled magic, and garbled node data.
            let mut g = bytes.clone();
            g[0] ^= 0xff;
            let gp = dir.path().join("g.octree");
            std::fs::write(&gp, &g).unwrap();
            assert!(matches!(
                Octree::open(&gp),
                Err(OctreeError::Corrupt { .. })
            ));
            let mut g = bytes.clone();
            let n1 = &tree.nodes[1];
            let at = n1.file_offset as usize + 16;
            g[at..at + 12].copy_from_slice(&[0xff; 12]); // NaN position
            std::fs::write(&gp, &g).unwrap();
            let t = Octree::open(&gp).unwrap();
            assert!(matches!(t.read_node(1), Err(OctreeError::Corrupt { .. })));
            assert!(t.read_node(0).is_ok());
            let mut g = bytes;
            g[n1.file_offset as usize] ^= 1; // chunk magic
            std::fs::write(&gp, &g).unwrap();
            let t = Octree::open(&gp).unwrap();
            assert!(matches!(t.read_node(1), Err(OctreeError::Corrupt { .. })));
        }

        #[test]
        fn rebuild_replaces_file_while_old_tree_reads() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("c.octree");
            let a = build(&test_cloud(30_000, 50.0, 6), &small_opts(), &path);
            let before = a.read_node(0).unwrap();
            let _b = build(&test_cloud(60_000, 80.0, 7), &small_opts(), &path);
            assert_eq!(a.read_node(0).unwrap(), before);
        }
    }
}

mod colormap {
    use twinmint_app::viewer::colormap::*;
    use twinmint_app::viewer::node_store::NodePoints;

    mod tests {
        use super::*;

        fn node() -> NodePoints {
            NodePoints {
                positions: vec![[0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
                rgb: None,
                intensity: Some(vec![0, 1000, 2000]),
                class: Some(vec![2, 5, 5]),
                tree: Some(vec![0, 7, 8]),
                z: vec![0.0, 15.0, 30.0],
            }
        }

        #[test]
        fn height_ramp_spans_viridis_ends() {
            let pts = colorize(
                &node(),
                ColorMode::Height,
                &ColorRanges::default(),
                &ClassFilter::default(),
            );
            assert_eq!(&unpack(pts[0].color)[..3], &VIRIDIS[0]);
            assert_eq!(&unpack(pts[2].color)[..3], &VIRIDIS[8]);
            assert_eq!(unpack(pts[1].color)[3], 255);
        }

        #[test]
        fn rgb_falls_back_to_height_without_colour() {
            let a = colorize(
                &node(),
                ColorMode::Rgb,
                &ColorRanges::default(),
                &ClassFilter::default(),
            );
            let b = colorize(
                &node(),
                ColorMode::Height,
                &ColorRanges::default(),
                &ClassFilter::default(),
            );
            assert_eq!(a, b);
        }

        #[test]
        fn filter_hides_vegetation_only() {
            let pts = colorize(
                &node(),
                ColorMode::Class,
                &ColorRanges::default(),
                &ClassFilter::without_vegetation(),
            );
            let alpha: Vec<u8> = pts.iter().map(|p| unpack(p.color)[3]).collect();
            assert_eq!(alpha, vec![255, 0, 0]);
            assert_eq!(&unpack(pts[0].color)[..3], &class_color(2));
        }

        #[test]
        fn terrain_filter_keeps_ground_and_pipes_only() {
            let f = ClassFilter::terrain_and_structures();
            for c in [2u8, 9, 64] {
                assert!(!f.is_hidden(c), "{c}");
            }
            for c in [0u8, 1, 3, 4, 5, 7, 200] {
                assert!(f.is_hidden(c), "{c}");
            }
        }

        #[test]
        fn tree_colours_differ_between_neighbouring_ids() {
            let a = tree_color(7);
            let b = tree_color(8);
            let d: i32 = (0..3).map(|k| (a[k] as i32 - b[k] as i32).abs()).sum();
            assert!(d > 60, "{a:?} vs {b:?}");
            assert_eq!(tree_color(0), [150, 150, 150]);
        }

        #[test]
        fn viridis_distance_is_zero_on_ramp_and_large_off_it() {
            assert!(distance_to_viridis(viridis(0.37)) < 2.0);
            assert!(distance_to_viridis([255, 0, 0]) > 100.0);
        }

        #[test]
        fn ranges_from_sample_use_percentiles() {
            let mut n = node();
            n.z = (0..1000).map(|i| i as f32 / 10.0).collect();
            n.positions = vec![[0.0; 3]; 1000];
            n.intensity = None;
            let r = ColorRanges::from_sample(&n);
            assert!(
                (r.z[0] - 1.0).abs() < 0.2 && (r.z[1] - 98.9).abs() < 0.2,
                "{r:?}"
            );
        }
    }
}

mod lod {
    use std::sync::Arc;
    use twinmint_app::viewer::lod::*;
    use twinmint_app::viewer::node_store::NodePoints;
    use twinmint_app::viewer::octree::{NO_NODE, Octree};

    mod tests {
        use super::*;
        use crate::octree::tests::{Rng, build};
        use capture::PointCloud;
        use twinmint_app::viewer::octree::OctreeOptions;

        /// A 1000 m × 100 m strip of gently rolling ground, 300 k points.
        fn strip(dir: &std::path::Path) -> Octree {
            let mut rng = Rng::new(9);
            let pts: Vec<[f64; 3]> = (0..300_000)
                .map(|_| {
                    let (x, y) = (1000.0 * rng.next(), 100.0 * rng.next());
                    [600_000.0 + x, 4_000_000.0 + y, 100.0 + (y / 10.0).sin()]
                })
                .collect();
            let cloud = PointCloud::from_absolute(&pts);
            let opts = OctreeOptions {
                max_points_per_node: 2_000,
                grid_cells: 32,
                max_depth: 18,
            };
            build(&cloud, &opts, &dir.join("strip.octree"))
        }

        /// Camera at local `eye` looking at local `target`, 1080 px high, 60° fov.
        fn camera(eye: [f64; 3], target: [f64; 3]) -> LodCamera {
            let fov = 60f64.to_radians();
            let vp = look_at_perspective(eye, target, [0.0, 0.0, 1.0], fov, 16.0 / 9.0, 0.1, 1e5);
            LodCamera::from_view_projection(eye, vp, 1080.0, fov)
        }

        /// Local coordinates of a point of the strip (its origin is the bounds centre).
        fn local(t: &Octree, x: f64, y: f64, z: f64) -> [f64; 3] {
            [
                600_000.0 + x - t.origin[0],
                4_000_000.0 + y - t.origin[1],
                100.0 + z - t.origin[2],
            ]
        }

        #[test]
        fn frustum_planes_classify_points() {
            let cam = camera([0.0, 0.0, 0.0], [10.0, 0.0, 0.0]);
            let inside = |p: [f64; 3]| cam.sees_cube(p, 0.0);
            assert!(inside([10.0, 0.0, 0.0]));
            assert!(inside([100.0, 20.0, -20.0]));
            assert!(!inside([-10.0, 0.0, 0.0]), "behind");
            assert!(!inside([0.05, 0.0, 0.0]), "before the near plane");
            assert!(!inside([10.0, 0.0, 10.0]), "above a 60° fov");
            assert!(!inside([10.0, -30.0, 0.0]), "right of the frustum");
            assert!(!inside([2e5, 0.0, 0.0]), "beyond far");
            for p in cam.frustum {
                let len = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
                assert!((len - 1.0).abs() < 1e-9);
            }
        }

        #[test]
        fn selection_respects_budget_and_keeps_root() {
            let dir = tempfile::tempdir().unwrap();
            let t = strip(dir.path());
            let cam = camera(local(&t, -50.0, 50.0, 30.0), local(&t, 200.0, 50.0, 0.0));
            let mut out = Vec::new();
            let root = t.nodes[0].point_count as u64;
            for budget in [root, root + 5_000, 40_000, 120_000] {
                let used = select(&t, &cam, budget, 0.0, &mut out);
                assert_eq!(out[0], 0, "root first");
                let sum: u64 = out
                    .iter()
                    .map(|&i| t.nodes[i as usize].point_count as u64)
                    .sum();
                assert_eq!(sum, used);
                assert!(used <= budget, "{used} > {budget}");
                let mut ids = out.clone();
                ids.sort_unstable();
                ids.dedup();
                assert_eq!(ids.len(), out.len(), "a node selected twice");
                // Every selected node's parent is selected (drawing is additive).
                for &i in &out[1..] {
                    assert!(out.contains(&t.nodes[i as usize].parent));
                }
            }
            // Budget below the root: the root alone.
            assert_eq!(select(&t, &cam, 1, 0.0, &mut out), root);
            assert_eq!(out, vec![0]);
            // Everything in view with no budget limit: all nodes from far above.
            let top = camera(local(&t, 500.0, 50.0, 3000.0), local(&t, 500.0, 50.1, 0.0));
            select(&t, &top, u64::MAX, 0.0, &mut out);
            assert_eq!(out.len(), t.nodes.len());
        }

        #[test]
        fn near_nodes_win_over_far_ones() {
            let dir = tempfile::tempdir().unwrap();
            let t = strip(dir.path());
            let cam = camera(local(&t, -20.0, 50.0, 15.0), local(&t, 300.0, 50.0, 0.0));
            let mut out = Vec::new();
            select(&t, &cam, 60_000, 0.0, &mut out);
            let x0 = local(&t, 0.0, 0.0, 0.0)[0];
            let deepest = |lo: f64, hi: f64| {
                out.iter()
                    .map(|&i| &t.nodes[i as usize])
                    .filter(|n| (lo..hi).contains(&(n.center[0] - x0)))
                    .map(|n| n.key.depth)
                    .max()
                    .unwrap_or(0)
            };
            let (near, far) = (deepest(0.0, 150.0), deepest(600.0, 1000.0));
            assert!(near >= far + 2, "near depth {near}, far depth {far}");
            // Points per metre of strip: the first 150 m get more than the last 400 m.
            let pts = |lo: f64, hi: f64| -> u64 {
                out.iter()
                    .map(|&i| &t.nodes[i as usize])
                    .filter(|n| n.key.depth > 0 && (lo..hi).contains(&(n.center[0] - x0)))
                    .map(|n| n.point_count as u64)
                    .sum()
            };
            assert!(pts(0.0, 150.0) > pts(600.0, 1000.0));
        }

        #[test]
        fn nodes_behind_the_camera_are_excluded() {
            let dir = tempfile::tempdir().unwrap();
            let t = strip(dir.path());
            // Looking level along +x, so the near plane is x = eye.x + 0.1 exactly.
            let eye = local(&t, 500.0, 50.0, 10.0);
            let cam = camera(eye, local(&t, 600.0, 50.0, 10.0));
            let mut out = Vec::new();
            select(&t, &cam, u64::MAX, 0.0, &mut out);
            assert!(out.len() > 10);
            for &i in &out[1..] {
                let n = &t.nodes[i as usize];
                assert!(
                    n.center[0] + n.half_size >= eye[0],
                    "node {i} lies behind the camera"
                );
            }
            // Leaves ahead of the camera were reached, leaves behind it were not.
            let leaf_ahead = out.iter().any(|&i| {
                let n = &t.nodes[i as usize];
                n.is_leaf() && n.center[0] - n.half_size > eye[0]
            });
            assert!(leaf_ahead);
            let behind_leaves = t
                .nodes
                .iter()
                .filter(|n| n.is_leaf() && n.center[0] + n.half_size < eye[0])
                .count();
            assert!(behind_leaves > 0, "the test needs leaves behind the camera");
        }

        #[test]
        fn min_pixel_spacing_stops_descent() {
            let dir = tempfile::tempdir().unwrap();
            let t = strip(dir.path());
            let cam = camera(local(&t, -100.0, 50.0, 50.0), local(&t, 500.0, 50.0, 0.0));
            let mut out = Vec::new();
            let all = select(&t, &cam, u64::MAX, 0.0, &mut out);
            let coarse = select(&t, &cam, u64::MAX, 2.0, &mut out);
            assert!(coarse < all, "{coarse} vs {all}");
            for &i in &out {
                let n = &t.nodes[i as usize];
                if n.parent != NO_NODE {
                    let p = &t.nodes[n.parent as usize];
                    let near = distance_to_cube(cam.position, p.center, p.half_size);
                    assert!(p.spacing * cam.projection_factor() / near >= 2.0);
                }
            }
            assert_eq!(
                select(&t, &cam, u64::MAX, 1e12, &mut out),
                t.nodes[0].point_count as u64
            );
        }

        #[test]
        fn cache_evicts_least_recently_used() {
            let pts = |n: usize| {
                Arc::new(NodePoints {
                    positions: vec![[0.0; 3]; n],
                    z: vec![0.0; n],
                    ..Default::default()
                })
            };
            let mut c = NodeCache::new(100);
            assert!(c.insert(1, pts(40)).is_empty());
            assert!(c.insert(2, pts(40)).is_empty());
            c.touch(&[1]);
            assert_eq!(c.insert(3, pts(40)), vec![2]);
            assert!(c.contains(1) && c.contains(3) && !c.contains(2));
            assert_eq!(c.used_points(), 80);
            let mut miss = Vec::new();
            c.missing(&[3, 2, 1, 7], &mut miss);
            assert_eq!(miss, vec![2, 7]);
            assert!(c.get(3).is_some());
            assert_eq!(c.insert(4, pts(30)), vec![1]);
            // Replacing a node does not double-count it.
            c.insert(4, pts(10));
            assert_eq!(c.used_points(), 50);
            // Too big for the cache: kept alone.
            assert_eq!(c.insert(5, pts(500)).len(), 2);
            assert_eq!(c.len(), 1);
            assert!(c.remove(5).is_some());
            assert_eq!(c.used_points(), 0);
        }
    }
}

mod copc_octree {
    use capture::copc::CopcFile;
    use twinmint_app::viewer::node::OctreeError;
    use twinmint_app::viewer::octree::Octree;

    mod tests {
        use super::*;
        use crate::octree::tests::test_cloud;
        use capture::copc::{CopcOptions, write_copc};

        #[test]
        fn copc_nodes_become_the_viewers_nodes_every_point_once_in_its_cube() {
            let cloud = test_cloud(60_000, 80.0, 3);
            let dir = tempfile::tempdir().unwrap();
            let copc = dir.path().join("cloud.laz");
            let opts = CopcOptions {
                max_node_points: 4_000,
                ..Default::default()
            };
            let summary = write_copc(&cloud, &copc, &opts, &Default::default()).unwrap();
            assert!(capture::copc::is_copc(&copc));
            let cache = dir.path().join("viewer/octree.bin");
            let file = CopcFile::open(&copc).unwrap();
            let tree = Octree::from_copc(&file, &cache, &|_| {}, &|| false).unwrap();
            assert_eq!(tree.total_points, cloud.len() as u64);
            assert_eq!(tree.nodes.len(), summary.nodes);
            assert!(tree.max_depth() >= 2);
            let attrs = tree.attributes();
            assert!(attrs.rgb && attrs.intensity && attrs.class && attrs.tree);
            let mut seen = vec![false; cloud.len()];
            for (id, node) in tree.nodes.iter().enumerate() {
                if let Some(p) = tree.nodes.get(node.parent as usize) {
                    assert_eq!(p.children[node.key.octant()], id as u32);
                }
                let pts = tree.read_node(id as u32).unwrap();
                assert_eq!(pts.len(), node.point_count as usize);
                for (k, rel) in pts.positions.iter().enumerate() {
                    // Traced back by its treeID (index + 1): the same point, within the 1 mm
                    // quantum of the COPC file, inside its node's cube.
                    let i = pts.tree.as_ref().unwrap()[k] as usize - 1;
                    assert!(!seen[i], "point {i} twice");
                    seen[i] = true;
                    let want = cloud.absolute(i);
                    for a in 0..3 {
                        let got = tree.origin[a] + node.center[a] + rel[a] as f64;
                        assert!((got - want[a]).abs() < 2e-3, "{got} vs {}", want[a]);
                        assert!(rel[a].abs() as f64 <= node.half_size + 2e-3);
                    }
                }
            }
            assert!(seen.iter().all(|s| *s));
            // Reopened from the cache as any octree.
            let again = Octree::open(&cache).unwrap();
            assert_eq!(again.total_points, tree.total_points);

            // Cancelled: an error, and no partial cache left behind.
            let cache2 = dir.path().join("viewer/other.bin");
            let err = Octree::from_copc(&file, &cache2, &|_| {}, &|| true).unwrap_err();
            assert!(matches!(err, OctreeError::Cancelled));
            assert!(!cache2.exists());
            assert!(!dir.path().join("viewer/other.bin.partial").exists());
        }
    }
}
