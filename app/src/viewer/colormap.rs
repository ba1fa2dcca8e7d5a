//! Per-point colours for the viewer: the attribute a surveyor picks (RGB, height, class,
//! intensity, tree id) mapped through a fixed palette into the 4-byte colour the GPU reads.
//! Colour is computed when a node is loaded, not in the shader, so both rasterisers read one
//! packed `u32` per point and changing the mode only re-colours resident nodes.

use bytemuck::{Pod, Zeroable};

use crate::viewer::node_store::NodePoints;

/// One point as the GPU reads it: position relative to its node's centre and RGBA8 colour
/// (alpha 0 = hidden by the class filter).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct GpuPoint {
    pub pos: [f32; 3],
    pub color: u32,
}

/// What the points are coloured by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ColorMode {
    /// The scan's own colour; height where the scan has none.
    #[default]
    Rgb,
    /// Elevation through viridis (perceptually uniform, colour-blind safe).
    Height,
    /// ASPRS class with CloudCompare-like colours.
    Class,
    /// Return intensity as grey, stretched between the 2nd and 98th percentile.
    Intensity,
    /// Segmented tree id, one stable hue per tree; unsegmented points grey.
    TreeId,
}

impl ColorMode {
    pub const ALL: [ColorMode; 5] = [
        ColorMode::Rgb,
        ColorMode::Height,
        ColorMode::Class,
        ColorMode::Intensity,
        ColorMode::TreeId,
    ];
    pub fn label(self) -> &'static str {
        match self {
            ColorMode::Rgb => "RGB",
            ColorMode::Height => "Height",
            ColorMode::Class => "Class",
            ColorMode::Intensity => "Intensity",
            ColorMode::TreeId => "Tree id",
        }
    }
}

/// Value ranges the ramps stretch over, taken once per cloud so every node maps alike.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColorRanges {
    pub z: [f32; 2],
    pub intensity: [f32; 2],
}

impl Default for ColorRanges {
    fn default() -> Self {
        ColorRanges {
            z: [0.0, 30.0],
            intensity: [0.0, 65535.0],
        }
    }
}

impl ColorRanges {
    /// Ranges from a sample of the cloud (the octree root is a uniform subsample): heights
    /// between the 1st and 99th percentile, intensity between the 2nd and 98th.
    pub fn from_sample(p: &NodePoints) -> ColorRanges {
        let mut r = ColorRanges::default();
        if let Some((lo, hi)) = percentiles(p.z.iter().copied(), 0.01, 0.99) {
            r.z = [lo, hi.max(lo + 1e-3)];
        }
        if let Some(i) = &p.intensity
            && let Some((lo, hi)) = percentiles(i.iter().map(|&v| v as f32), 0.02, 0.98)
        {
            r.intensity = [lo, hi.max(lo + 1.0)];
        }
        r
    }
}

fn percentiles(v: impl Iterator<Item = f32>, lo: f64, hi: f64) -> Option<(f32, f32)> {
    let mut v: Vec<f32> = v.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_unstable_by(f32::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    Some((at(lo), at(hi)))
}

/// Which classes are drawn; the time-lapse hides vegetation so grown tree models replace it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClassFilter {
    hidden: [u64; 4],
}

impl ClassFilter {
    pub fn hide(mut self, class: u8) -> Self {
        self.hidden[(class / 64) as usize] |= 1 << (class % 64);
        self
    }
    pub fn is_hidden(&self, class: u8) -> bool {
        self.hidden[(class / 64) as usize] & (1 << (class % 64)) != 0
    }
    /// Hide ASPRS vegetation (3 low, 4 medium, 5 high).
    pub fn without_vegetation() -> Self {
        ClassFilter::default().hide(3).hide(4).hide(5)
    }
    /// Show only the ground, water, buildings and pipes/structures (ASPRS 2, 6, 9, 17 and
    /// user class 64): what stays when grown tree models replace the scanned canopy (the
    /// canopy also leaves unassigned and noise points behind).
    pub fn terrain_and_structures() -> Self {
        let mut f = ClassFilter {
            hidden: [u64::MAX; 4],
        };
        for c in [2u8, 6, 9, 17, 64] {
            f.hidden[(c / 64) as usize] &= !(1 << (c % 64));
        }
        f
    }
}

/// Pack RGBA bytes the way WGSL's `unpack4x8unorm` reads them.
pub fn pack(rgba: [u8; 4]) -> u32 {
    u32::from_le_bytes(rgba)
}

pub fn unpack(c: u32) -> [u8; 4] {
    c.to_le_bytes()
}

/// Viridis control points (matplotlib's `_viridis_data` at 0, 1/8, …, 1).
pub const VIRIDIS: [[u8; 3]; 9] = [
    [68, 1, 84],
    [71, 44, 122],
    [59, 81, 139],
    [44, 113, 142],
    [33, 144, 141],
    [39, 173, 129],
    [92, 200, 99],
    [170, 220, 50],
    [253, 231, 37],
];

/// Viridis at `t` in 0..=1 (piecewise linear between the control points).
pub fn viridis(t: f32) -> [u8; 3] {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (VIRIDIS.len() - 1) as f32;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f32;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    [0, 1, 2].map(|k| (a[k] as f32 + (b[k] as f32 - a[k] as f32) * f).round() as u8)
}

/// ASPRS classes in CloudCompare's/PDAL's customary colours; unknown classes magenta-grey.
pub fn class_color(class: u8) -> [u8; 3] {
    match class {
        0 | 1 => [170, 170, 170],
        2 => [166, 118, 60],
        3 => [154, 205, 50],
        4 => [60, 179, 60],
        5 => [20, 120, 40],
        6 => [220, 60, 50],
        7 | 18 => [255, 0, 255],
        9 => [60, 120, 230],
        64 => [240, 160, 20],
        _ => [190, 150, 190],
    }
}

/// A stable, well-separated hue per tree (golden-angle hue steps); 0 = not a tree.
pub fn tree_color(id: u32) -> [u8; 3] {
    if id == 0 {
        return [150, 150, 150];
    }
    let h = (id as f32 * 137.507_77).rem_euclid(360.0);
    hsv(h, 0.75, 0.95)
}

fn hsv(h: f32, s: f32, v: f32) -> [u8; 3] {
    let c = v * s;
    let x = c * (1.0 - ((h / 60.0).rem_euclid(2.0) - 1.0).abs());
    let m = v - c;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    [r, g, b].map(|u| ((u + m) * 255.0).round() as u8)
}

/// Colour one node's points for the GPU.
pub fn colorize(
    p: &NodePoints,
    mode: ColorMode,
    ranges: &ColorRanges,
    filter: &ClassFilter,
) -> Vec<GpuPoint> {
    let n = p.positions.len();
    let mode = match mode {
        ColorMode::Rgb if p.rgb.is_none() => ColorMode::Height,
        ColorMode::Intensity if p.intensity.is_none() => ColorMode::Height,
        ColorMode::Class if p.class.is_none() => ColorMode::Height,
        ColorMode::TreeId if p.tree.is_none() => ColorMode::Height,
        m => m,
    };
    let zspan = ranges.z[1] - ranges.z[0];
    let ispan = ranges.intensity[1] - ranges.intensity[0];
    (0..n)
        .map(|i| {
            let rgb = match mode {
                ColorMode::Rgb => p.rgb.as_ref().map_or([0; 3], |c| c[i]),
                ColorMode::Height => viridis((p.z[i] - ranges.z[0]) / zspan),
                ColorMode::Class => class_color(p.class.as_ref().map_or(0, |c| c[i])),
                ColorMode::Intensity => {
                    let v = p.intensity.as_ref().map_or(0, |c| c[i]) as f32;
                    let g = (((v - ranges.intensity[0]) / ispan).clamp(0.0, 1.0) * 255.0) as u8;
                    [g, g, g]
                }
                ColorMode::TreeId => tree_color(p.tree.as_ref().map_or(0, |c| c[i])),
            };
            let hidden = p.class.as_ref().is_some_and(|c| filter.is_hidden(c[i]));
            GpuPoint {
                pos: p.positions[i],
                color: pack([rgb[0], rgb[1], rgb[2], if hidden { 0 } else { 255 }]),
            }
        })
        .collect()
}

/// Distance in RGB from `c` to the nearest colour viridis can produce (0 = on the ramp).
pub fn distance_to_viridis(c: [u8; 3]) -> f32 {
    (0..=255)
        .map(|k| {
            let v = viridis(k as f32 / 255.0);
            let d: f32 = (0..3).map(|j| (v[j] as f32 - c[j] as f32).powi(2)).sum();
            d.sqrt()
        })
        .fold(f32::INFINITY, f32::min)
}
