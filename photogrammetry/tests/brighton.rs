//! Brighton Beach (18 DJI photos, a reference cloud from a third-party pipeline): every photo
//! registered at a mean reprojection error ≤ 1 px; the dense cloud, after a rigid best fit,
//! within 0.3 m (median cloud-to-cloud) of the reference and its extent within 5 m (between
//! the 0.5th and 99.5th percentiles of each axis).

use kiddo::SquaredEuclidean;
use kiddo::immutable::float::kdtree::ImmutableKdTree;
use photogrammetry::linalg::{M3, V3};
use photogrammetry::mvs::{MvsOptions, dense_cpu};
use photogrammetry::{SfmOptions, run};

fn utm15() -> capture::Crs {
    capture::Crs::epsg(32615)
}

/// Rigid ICP of `ours` onto the reference tree (point-to-point, Kabsch per iteration); the
/// moved points.
fn icp(ours: &[V3], tree: &ImmutableKdTree<f64, u32, 3, 32>, refp: &[V3]) -> Vec<V3> {
    let mut cur = ours.to_vec();
    for _ in 0..30 {
        let pairs: Vec<(V3, V3)> = cur
            .iter()
            .map(|p| {
                let n = tree.nearest_one::<SquaredEuclidean>(p);
                (*p, refp[n.item as usize])
            })
            .collect();
        let mut d: Vec<f64> = pairs
            .iter()
            .map(|(a, b)| {
                ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
            })
            .collect();
        d.sort_by(f64::total_cmp);
        let cut = d[d.len() * 8 / 10].max(0.05);
        let kept: Vec<&(V3, V3)> = pairs
            .iter()
            .filter(|(a, b)| {
                ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
                    <= cut
            })
            .collect();
        let n = kept.len() as f64;
        let ca: V3 = std::array::from_fn(|k| kept.iter().map(|p| p.0[k]).sum::<f64>() / n);
        let cb: V3 = std::array::from_fn(|k| kept.iter().map(|p| p.1[k]).sum::<f64>() / n);
        let mut h: M3 = [[0.0; 3]; 3];
        for (a, b) in &kept {
            for i in 0..3 {
                for j in 0..3 {
                    h[i][j] += (a[i] - ca[i]) * (b[j] - cb[j]);
                }
            }
        }
        let (u, _, v) = photogrammetry::linalg::svd3(&h);
        let mut r = photogrammetry::linalg::mul(&v, &photogrammetry::linalg::transpose(&u));
        if photogrammetry::linalg::det(&r) < 0.0 {
            let mut v2 = v;
            for row in &mut v2 {
                row[2] = -row[2];
            }
            r = photogrammetry::linalg::mul(&v2, &photogrammetry::linalg::transpose(&u));
        }
        for p in &mut cur {
            let q = photogrammetry::linalg::mulv(&r, &photogrammetry::linalg::sub(p, &ca));
            *p = [q[0] + cb[0], q[1] + cb[1], q[2] + cb[2]];
        }
    }
    cur
}

#[test]
fn brighton_beach_registers_and_densifies() {
    let dir = test_support::data_dir().join("photos/brighton_beach");
    let cancel = capture::CancelToken::new();
    let t = std::time::Instant::now();
    let m = run(
        &dir,
        &SfmOptions {
            target_crs: Some(utm15()),
            ..Default::default()
        },
        &|_, _| {},
        &cancel,
    )
    .unwrap();
    eprintln!("{:?} in {:.1} s", m.stats, t.elapsed().as_secs_f64());
    eprintln!(
        "intrinsics {:?}; mean error {:.3} px",
        m.intrinsics, m.mean_error_px
    );
    for c in &m.cameras {
        eprintln!(
            "{} registered {} obs {} err {:.3} px",
            c.file, c.registered, c.observations, c.mean_error_px
        );
    }
    assert!(m.cameras.iter().all(|c| c.registered));
    assert!(
        m.mean_error_px <= 1.0,
        "mean error {:.3} px",
        m.mean_error_px
    );

    let t = std::time::Instant::now();
    let d = dense_cpu(
        &dir,
        &m,
        &MvsOptions {
            max_side: 400,
            ..Default::default()
        },
        &|_, _| {},
        &cancel,
    )
    .unwrap();
    eprintln!(
        "dense: {} points in {:.1} s",
        d.points.len(),
        t.elapsed().as_secs_f64()
    );
    assert!(d.points.len() > 10_000, "{} dense points", d.points.len());

    let reference = capture::read(
        &dir.join("model.laz"),
        &capture::ReadOptions::default(),
        &mut capture::NoProgress,
        &cancel,
    )
    .unwrap();
    let refp: Vec<V3> = (0..reference.len())
        .map(|i| reference.absolute(i))
        .collect();
    let tree: ImmutableKdTree<f64, u32, 3, 32> = ImmutableKdTree::new_from_slice(&refp);
    let step = (d.points.len() / 20_000).max(1);
    let ours: Vec<V3> = d.points.iter().step_by(step).copied().collect();
    let before = {
        let mut v: Vec<f64> = ours
            .iter()
            .map(|p| tree.nearest_one::<SquaredEuclidean>(p).distance.sqrt())
            .collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let moved = icp(&ours, &tree, &refp);
    let mut dist: Vec<f64> = moved
        .iter()
        .map(|p| tree.nearest_one::<SquaredEuclidean>(p).distance.sqrt())
        .collect();
    dist.sort_by(f64::total_cmp);
    let median = dist[dist.len() / 2];
    let extent = |pts: &[V3]| -> [f64; 2] {
        let mut lo = [f64::MAX; 2];
        let mut hi = [f64::MIN; 2];
        for p in pts {
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        [hi[0] - lo[0], hi[1] - lo[1]]
    };
    let (eo, er) = (extent(&moved), extent(&refp));
    let robust = |pts: &[V3]| -> [f64; 2] {
        std::array::from_fn(|k| {
            let mut v: Vec<f64> = pts.iter().map(|p| p[k]).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() * 995 / 1000] - v[v.len() * 5 / 1000]
        })
    };
    eprintln!(
        "extent, 0.5–99.5 %: ours {:?}, reference {:?}",
        robust(&moved),
        robust(&refp)
    );
    eprintln!(
        "median cloud-to-cloud {before:.3} m as georeferenced, {median:.3} m after the rigid fit; extent {eo:?} vs reference {er:?}"
    );
    assert!(median <= 0.3, "median distance {median:.3} m");
    // Extents compared between the 0.5th and 99.5th percentiles on each axis: a bounding box
    // is one stray point wide, on either side.
    let (ro, rr) = (robust(&moved), robust(&refp));
    assert!(
        (ro[0] - rr[0]).abs() <= 5.0 && (ro[1] - rr[1]).abs() <= 5.0,
        "extent {ro:?} vs {rr:?}"
    );
}
