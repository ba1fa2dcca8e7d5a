//! Airborne range-noise directions for the refinement's residual ([`NoiseModel`]).

use super::*;

/// How range noise is oriented, which decides the residual the refinement minimises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseModel {
    /// [`NoiseModel::Beam`] when the points carry non-zero scan angles (airborne scanners
    /// record one; terrestrial scans, with mm noise, do not need it), otherwise
    /// [`NoiseModel::Isotropic`].
    Auto,
    /// Orthogonal distance to the surface (least squares in the usual sense).
    Isotropic,
    /// Range noise along a vertical beam (airborne data without scan angles).
    Vertical,
    /// Range noise along each point's airborne beam: tilted from the vertical by the point's
    /// scan angle, across the flight direction, which is estimated per flight line
    /// (`point_source_id`) by regressing positions on GPS time. Points of lines whose track is
    /// not straight, or without the columns, fall back to vertical.
    Beam,
}

/// Per subset point beam directions for `model` (see [`NoiseModel`]).
pub(super) fn beam_directions(
    cloud: &PointCloud,
    subset: &[usize],
    model: NoiseModel,
) -> Option<Vec<V3>> {
    let up = [0.0, 0.0, 1.0];
    let tilted = cloud
        .scan_angle
        .as_ref()
        .is_some_and(|a| subset.iter().any(|&i| a[i] != 0));
    match model {
        NoiseModel::Isotropic => return None,
        NoiseModel::Vertical => return Some(vec![up; subset.len()]),
        NoiseModel::Auto if !tilted => return None,
        NoiseModel::Auto | NoiseModel::Beam => {}
    }
    let (Some(angle), Some(time), Some(psid)) =
        (&cloud.scan_angle, &cloud.gps_time, &cloud.point_source_id)
    else {
        return Some(vec![up; subset.len()]);
    };
    let headings = flight_headings(cloud, time, psid);
    Some(
        subset
            .iter()
            .map(|&i| match headings.get(&psid[i]) {
                Some(h) => {
                    // LAS 1.4: scan angle in 0.006° steps, positive to the right of the flight
                    // direction (counter-clockwise seen from behind the sensor).
                    let th = (angle[i] as f64 * 0.006).to_radians();
                    let right = [h[1], -h[0]];
                    [th.sin() * right[0], th.sin() * right[1], -th.cos()]
                }
                None => up,
            })
            .collect(),
    )
}

/// Unit horizontal flight direction per `point_source_id`, from a least-squares line of
/// position against GPS time; lines whose along-track positions deviate from that line by more
/// than 5 % of their length (turns, several passes under one id) get none.
pub(super) fn flight_headings(
    cloud: &PointCloud,
    time: &[f64],
    psid: &[u16],
) -> std::collections::BTreeMap<u16, [f64; 2]> {
    use std::collections::BTreeMap;
    let mut mean: BTreeMap<u16, [f64; 4]> = BTreeMap::new();
    for i in 0..cloud.len() {
        let p = cloud.positions[i];
        let m = mean.entry(psid[i]).or_insert([0.0; 4]);
        m[0] += time[i];
        m[1] += p[0] as f64;
        m[2] += p[1] as f64;
        m[3] += 1.0;
    }
    for m in mean.values_mut() {
        m[0] /= m[3];
        m[1] /= m[3];
        m[2] /= m[3];
    }
    // Σ dt², Σ dt·dx, Σ dt·dy.
    let mut cov: BTreeMap<u16, [f64; 3]> = BTreeMap::new();
    for i in 0..cloud.len() {
        let m = mean[&psid[i]];
        let p = cloud.positions[i];
        let dt = time[i] - m[0];
        let c = cov.entry(psid[i]).or_insert([0.0; 3]);
        c[0] += dt * dt;
        c[1] += dt * (p[0] as f64 - m[1]);
        c[2] += dt * (p[1] as f64 - m[2]);
    }
    let mut vel: BTreeMap<u16, [f64; 2]> = BTreeMap::new();
    for (k, c) in &cov {
        if c[0] > 0.0 {
            let v = [c[1] / c[0], c[2] / c[0]];
            if v[0].hypot(v[1]) > 0.5 {
                vel.insert(*k, v);
            }
        }
    }
    // Straightness: residual of along-track position against the fitted line.
    let mut check: BTreeMap<u16, [f64; 4]> = BTreeMap::new();
    for i in 0..cloud.len() {
        let Some(v) = vel.get(&psid[i]) else {
            continue;
        };
        let m = mean[&psid[i]];
        let p = cloud.positions[i];
        let speed = v[0].hypot(v[1]);
        let s = ((p[0] as f64 - m[1]) * v[0] + (p[1] as f64 - m[2]) * v[1]) / speed;
        let r = s - speed * (time[i] - m[0]);
        let c = check
            .entry(psid[i])
            .or_insert([0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY]);
        c[0] += r * r;
        c[1] += 1.0;
        c[2] = c[2].min(s);
        c[3] = c[3].max(s);
    }
    check
        .into_iter()
        .filter(|(_, c)| (c[0] / c[1]).sqrt() <= 0.05 * (c[3] - c[2]))
        .map(|(k, _)| {
            let v = vel[&k];
            let sp = v[0].hypot(v[1]);
            (k, [v[0] / sp, v[1] / sp])
        })
        .collect()
}
