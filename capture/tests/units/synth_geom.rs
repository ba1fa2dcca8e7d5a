//! Tests of `capture::synth::geom` (src/synth/geom.rs).
use capture::synth::geom::*;
use capture::synth::scene::{PipeRunSpec, Scene, SceneOptions};

fn flat_scene() -> SceneOptions {
    let mut o = SceneOptions {
        width_m: 40.0,
        depth_m: 40.0,
        ..Default::default()
    };
    o.terrain.relief_m = 0.0;
    o.terrain.slope = [0.0, 0.0];
    o.trees.density_per_ha = 0.0;
    o
}

#[test]
fn terrain_hit_lands_on_the_surface() {
    let scene = Scene::generate(&SceneOptions::default()).unwrap();
    let w = World::new(&scene);
    let mut s = Scratch::new(&w);
    for k in 0..200 {
        let a = k as f64 * 0.37;
        let o = [
            10.0 * a.cos(),
            10.0 * a.sin(),
            2.0 + w.terrain.height(0.0, 0.0),
        ];
        let el = -(1.0 + (k % 30) as f64) * 3.0f64.to_radians();
        let d = [el.cos() * a.sin(), el.cos() * a.cos(), el.sin()];
        if let Some(h) = w.trace(o, d, 0.0, 200.0, &mut s) {
            let p = [o[0] + h.t * d[0], o[1] + h.t * d[1], o[2] + h.t * d[2]];
            if h.target == Target::Terrain {
                assert!((p[2] - w.terrain.height(p[0], p[1])).abs() < 1e-6);
            }
        }
    }
}

#[test]
fn pipe_hits_are_on_the_cylinder_and_elbow() {
    let mut o = flat_scene();
    o.pipes.supports = false;
    o.pipes.runs = vec![PipeRunSpec {
        vertices: vec![[-10.0, 0.0, 2.0], [0.0, 0.0, 2.0], [0.0, 10.0, 2.0]],
        radius_m: 0.2,
    }];
    let scene = Scene::generate(&o).unwrap();
    let w = World::new(&scene);
    let mut s = Scratch::new(&w);
    let z = scene.pipes[0].start[2] - scene.centre[2];
    let mut hits = 0;
    // Rays from above onto the outer corner of the elbow.
    for i in 0..50 {
        for j in 0..50 {
            let x = -0.3 + 0.6 * i as f64 / 49.0;
            let y = -0.3 + 0.6 * j as f64 / 49.0;
            let h = w
                .trace([x, y, 20.0], [0.0, 0.0, -1.0], 0.0, 100.0, &mut s)
                .unwrap();
            if let Target::Pipe(_) = h.target {
                let pz = 20.0 - h.t;
                // Distance from the polyline axis.
                let d1 = seg_dist_3([x, y, pz], [-10.0, 0.0, z], [0.0, 0.0, z]);
                let d2 = seg_dist_3([x, y, pz], [0.0, 0.0, z], [0.0, 10.0, z]);
                assert!((d1.min(d2) - 0.2).abs() < 1e-9, "{x} {y} {}", d1.min(d2));
                hits += 1;
            }
        }
    }
    // The elbow leaves no gap: every ray within the union's footprint hits the pipe.
    assert!(hits > 1500, "{hits}");
}

fn seg_dist_3(p: [f64; 3], a: [f64; 3], b: [f64; 3]) -> f64 {
    let ab = sub(b, a);
    let s = (dot(sub(p, a), ab) / dot(ab, ab)).clamp(0.0, 1.0);
    let q = [a[0] + s * ab[0], a[1] + s * ab[1], a[2] + s * ab[2]];
    dot(sub(p, q), sub(p, q)).sqrt()
}

#[test]
fn crown_spans_match_shapes() {
    let para = CrownGeom::Paraboloid {
        top: 20.0,
        base: 10.0,
        k: 0.9, // radius 3 at base
    };
    let (a, b) = crown_span(&para, 0.0, 0.0, [0.0, 0.0, 30.0], [0.0, 0.0, -1.0]).unwrap();
    assert!((a - 10.0).abs() < 1e-9 && (b - 20.0).abs() < 1e-9);
    let (a, _) = crown_span(&para, 0.0, 0.0, [1.5, 0.0, 30.0], [0.0, 0.0, -1.0]).unwrap();
    assert!((30.0 - a - (20.0 - 1.5 * 1.5 / 0.9)).abs() < 1e-9);
    assert!(crown_span(&para, 0.0, 0.0, [3.1, 0.0, 30.0], [0.0, 0.0, -1.0]).is_none());
    let ell = CrownGeom::Ellipsoid {
        zc: 15.0,
        a: 4.0,
        c: 5.0,
    };
    let (a, b) = crown_span(&ell, 0.0, 0.0, [-10.0, 0.0, 15.0], [1.0, 0.0, 0.0]).unwrap();
    assert!((a - 6.0).abs() < 1e-9 && (b - 14.0).abs() < 1e-9);
}

#[test]
fn stem_diameter_at_breast_height_is_dbh() {
    let mut o = flat_scene();
    o.trees.density_per_ha = 30.0;
    let scene = Scene::generate(&o).unwrap();
    let w = World::new(&scene);
    let t = &scene.trees[0];
    let tg = &w.trees[0];
    let z = t.ground_z - scene.centre[2] + 1.3;
    // Horizontal rays grazing the stem at breast height from far away.
    let r = 0.005 * t.dbh_cm;
    let mut edge = 0.0f64;
    for k in 0..2000 {
        let off = -1.2 * r + 2.4 * r * k as f64 / 1999.0;
        let o3 = [tg.cx - 10.0, tg.cy + off, z];
        if stem_hit(tg, o3, [1.0, 0.0, 0.0], 0.0, 100.0).is_some() {
            edge = edge.max(off.abs());
        }
    }
    assert!((edge - r).abs() < 2.4 * r / 1999.0 + 1e-9, "{edge} vs {r}");
}
