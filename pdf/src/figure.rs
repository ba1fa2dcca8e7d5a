//! The reports' figures as vector graphics: a plan map of trees and polygons, and a band chart
//! (a projection's P10–P90 band and P50 line with measured points).

use crate::doc::{Page, Rgb, text_width};
use crate::flow::Area;

/// A tree on the map: position (any planar unit), crown radius in the same unit, colour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dot {
    pub x: f64,
    pub y: f64,
    pub r: f64,
    pub color: Rgb,
}

/// A map legend entry.
pub struct Legend<'a> {
    pub label: &'a str,
    pub color: Rgb,
}

/// Plan view of `dots` and `polygons` (outline colour), north up, equal scale on both axes,
/// with a scale bar and a legend.
pub fn map(
    page: &mut Page,
    area: Area,
    dots: &[Dot],
    polygons: &[(Vec<[f64; 2]>, Rgb)],
    legend: &[Legend<'_>],
) {
    page.rect(area.x, area.y, area.w, area.h, None, Some(Rgb::LIGHT));
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for d in dots {
        x0 = x0.min(d.x - d.r);
        x1 = x1.max(d.x + d.r);
        y0 = y0.min(d.y - d.r);
        y1 = y1.max(d.y + d.r);
    }
    for (poly, _) in polygons {
        for p in poly {
            x0 = x0.min(p[0]);
            x1 = x1.max(p[0]);
            y0 = y0.min(p[1]);
            y1 = y1.max(p[1]);
        }
    }
    if x0 > x1 {
        return;
    }
    let legend_h = 14.0;
    let (w, h) = (area.w - 10.0, area.h - 10.0 - legend_h);
    let scale = (w / (x1 - x0).max(1e-9)).min(h / (y1 - y0).max(1e-9));
    let ox = area.x + 5.0 + (w - (x1 - x0) * scale) / 2.0;
    let oy = area.y + 5.0 + legend_h + (h - (y1 - y0) * scale) / 2.0;
    let to = |x: f64, y: f64| [ox + (x - x0) * scale, oy + (y - y0) * scale];
    for d in dots {
        let p = to(d.x, d.y);
        page.disc(p[0], p[1], (d.r * scale).max(0.8), d.color);
    }
    for (poly, color) in polygons {
        let pts: Vec<[f64; 2]> = poly.iter().map(|p| to(p[0], p[1])).collect();
        page.path(&pts, true, None, Some(*color), 1.2);
    }
    // Scale bar: a round length near a fifth of the width.
    let target = (x1 - x0) / 5.0;
    let mag = 10f64.powf(target.log10().floor());
    let bar = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .rfind(|v| *v <= target)
        .unwrap_or(mag);
    let bx = area.x + 5.0;
    let by = area.y + 5.0;
    page.line(
        [bx, by + 8.0],
        [bx + bar * scale, by + 8.0],
        1.5,
        Rgb::BLACK,
    );
    page.text(bx, by, 6.5, Rgb::BLACK, &format!("{bar} m"));
    let mut lx = bx + bar * scale + 20.0;
    for l in legend {
        page.disc(lx + 3.0, by + 3.0, 3.0, l.color);
        page.text(lx + 9.0, by, 7.0, Rgb::BLACK, l.label);
        lx += 20.0 + text_width(l.label, 7.0);
    }
}

/// A band chart: `x` against the P10–P90 band (shaded) and P50 (line), `points` marked, axes
/// with end labels.
pub struct Band<'a> {
    pub x: &'a [f64],
    pub p10: &'a [f64],
    pub p50: &'a [f64],
    pub p90: &'a [f64],
    pub points: &'a [(f64, f64)],
    pub x_label: &'a str,
    pub y_label: &'a str,
}

pub fn band_chart(page: &mut Page, area: Area, b: &Band<'_>) {
    let n = b.x.len().min(b.p10.len()).min(b.p50.len()).min(b.p90.len());
    if n < 2 {
        return;
    }
    let (left, bottom) = (45.0, 22.0);
    let plot = Area {
        x: area.x + left,
        y: area.y + bottom,
        w: area.w - left - 10.0,
        h: area.h - bottom - 14.0,
    };
    let xs = &b.x[..n];
    let (x0, x1) = (xs[0], xs[n - 1]);
    let mut y0 = f64::MAX;
    let mut y1 = f64::MIN;
    for v in b.p10[..n]
        .iter()
        .chain(&b.p90[..n])
        .chain(b.points.iter().map(|p| &p.1))
    {
        y0 = y0.min(*v);
        y1 = y1.max(*v);
    }
    let pad = (y1 - y0).max(1e-9) * 0.05;
    let (y0, y1) = (y0 - pad, y1 + pad);
    let to = |x: f64, y: f64| {
        [
            plot.x + (x - x0) / (x1 - x0).max(1e-9) * plot.w,
            plot.y + (y - y0) / (y1 - y0) * plot.h,
        ]
    };
    let mut band: Vec<[f64; 2]> = (0..n).map(|i| to(xs[i], b.p90[i])).collect();
    band.extend((0..n).rev().map(|i| to(xs[i], b.p10[i])));
    page.path(&band, true, Some(Rgb(0.78, 0.87, 0.97)), None, 0.0);
    let mid: Vec<[f64; 2]> = (0..n).map(|i| to(xs[i], b.p50[i])).collect();
    page.path(&mid, false, None, Some(Rgb::BLUE), 1.2);
    for &(x, y) in b.points {
        let p = to(x, y);
        page.disc(p[0], p[1], 3.0, Rgb::RED);
    }
    page.line([plot.x, plot.y], [plot.x + plot.w, plot.y], 0.6, Rgb::BLACK);
    page.line([plot.x, plot.y], [plot.x, plot.y + plot.h], 0.6, Rgb::BLACK);
    let fmt = |v: f64| {
        if v.abs() >= 100.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        }
    };
    page.text(plot.x - 2.0, area.y + 8.0, 7.0, Rgb::BLACK, &fmt(x0));
    let last = fmt(x1);
    page.text(
        plot.x + plot.w - text_width(&last, 7.0),
        area.y + 8.0,
        7.0,
        Rgb::BLACK,
        &last,
    );
    page.text(
        plot.x + plot.w / 2.0 - text_width(b.x_label, 7.0) / 2.0,
        area.y + 8.0,
        7.0,
        Rgb::BLACK,
        b.x_label,
    );
    page.text(area.x, plot.y, 7.0, Rgb::BLACK, &fmt(y0));
    page.text(area.x, plot.y + plot.h - 7.0, 7.0, Rgb::BLACK, &fmt(y1));
    page.text(area.x, plot.y + plot.h + 4.0, 7.0, Rgb::BLACK, b.y_label);
}
