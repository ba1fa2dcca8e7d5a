//! Tests of `photogrammetry::features` (src/features.rs).
use photogrammetry::features::*;
use photogrammetry::image::Gray;

/// A textured test image: sums of sinusoids and blobs, no symmetry.
fn texture(w: usize, h: usize, shift: (f32, f32)) -> Gray {
    let mut g = Gray::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let (u, v) = (x as f32 - shift.0, y as f32 - shift.1);
            let mut s = 128.0
                + 40.0 * (u * 0.11).sin() * (v * 0.07).cos()
                + 30.0 * ((u * 0.023 + v * 0.031).sin() * 5.0).sin();
            let (bx, by) = ((u / 37.0).floor(), (v / 41.0).floor());
            let hsh = ((bx * 12.9898 + by * 78.233).sin() * 43758.547).fract();
            s += 50.0 * hsh;
            g.px[y * w + x] = s.clamp(0.0, 255.0);
        }
    }
    g
}

#[test]
fn shifted_image_matches_at_the_shift() {
    let a = texture(400, 300, (0.0, 0.0));
    let b = texture(400, 300, (13.0, -7.0));
    let o = FeatureOptions {
        max_features: 800,
        grid: 8,
    };
    let (fa, fb) = (detect(&a, &o), detect(&b, &o));
    assert!(
        fa.len() > 200 && fb.len() > 200,
        "{} {}",
        fa.len(),
        fb.len()
    );
    let mut good = 0;
    let mut total = 0;
    for f in &fa {
        let best = fb.iter().min_by_key(|g| hamming(&f.desc, &g.desc)).unwrap();
        if hamming(&f.desc, &best.desc) < 40 {
            total += 1;
            let (dx, dy) = (best.x - f.x, best.y - f.y);
            if (dx - 13.0).abs() < 1.0 && (dy + 7.0).abs() < 1.0 {
                good += 1;
            }
        }
    }
    assert!(total > 100, "{total} confident matches");
    assert!(
        good as f64 / total as f64 > 0.9,
        "{good}/{total} at the shift"
    );
}
