//! Brighton Beach (18 DJI photos): every photo registered, mean reprojection error ≤ 1 px.

use photogrammetry::{SfmOptions, run};

#[test]
fn brighton_beach_registers_every_photo() {
    let dir = test_support::data_dir().join("photos/brighton_beach");
    let t = std::time::Instant::now();
    let m = run(
        &dir,
        &SfmOptions::default(),
        &|_, _| {},
        &capture::CancelToken::new(),
    )
    .unwrap();
    eprintln!("{:?} in {:.1} s", m.stats, t.elapsed().as_secs_f64());
    eprintln!(
        "intrinsics {:?}; mean error {:.3} px",
        m.intrinsics, m.mean_error_px
    );
    for c in &m.cameras {
        let d = ((c.pose.centre[0] - c.gps[0]).powi(2)
            + (c.pose.centre[1] - c.gps[1]).powi(2)
            + (c.pose.centre[2] - c.gps[2]).powi(2))
        .sqrt();
        eprintln!(
            "{} registered {} obs {} err {:.3} px; {:.2} m from GPS",
            c.file, c.registered, c.observations, c.mean_error_px, d
        );
    }
    assert!(m.cameras.iter().all(|c| c.registered));
    assert!(
        m.mean_error_px <= 1.0,
        "mean error {:.3} px",
        m.mean_error_px
    );
}
