//! Brighton Beach (18 DJI photos): every photo registered at a mean reprojection error ≤ 1 px.
//! The dense cloud against the reference is tested end to end in `app/tests/photos_cli.rs`.

use photogrammetry::{SfmOptions, run};

fn utm15() -> capture::Crs {
    capture::Crs::epsg(32615)
}

#[test]
fn brighton_beach_registers_every_photo() {
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
}
