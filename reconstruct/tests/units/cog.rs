//! Tests of `reconstruct::cog` (src/cog.rs).
use capture::Crs;
use reconstruct::cog::*;
use reconstruct::geotiff::read_geotiff;
use reconstruct::geotiff::{IMAGE_LENGTH, IMAGE_WIDTH, TILE_WIDTH};
use reconstruct::model::Raster;

fn raster(w: usize, h: usize) -> Raster {
    let mut r = Raster::covering(
        500_000.0,
        5_000_000.0,
        500_000.0 + w as f64 * 0.5,
        5_000_000.0 + h as f64 * 0.5,
        0.5,
        -9999.0,
    );
    r.data = (0..r.width * r.height)
        .map(|k| {
            if k % 97 == 0 {
                -9999.0
            } else {
                (k % 1000) as f32 * 0.25
            }
        })
        .collect();
    r
}

#[test]
fn round_trips_with_overviews_down_to_one_tile() {
    let r = raster(700, 300);
    let crs = Crs::epsg(32633);
    let bytes = encode_cog(&r, &crs, "t").unwrap();
    let g = read_geotiff(&bytes).unwrap();
    assert_eq!(g.raster.width, r.width);
    assert_eq!(g.raster.height, r.height);
    assert_eq!(g.raster.data, r.data);
    assert_eq!(g.raster.x_min, r.x_min);
    assert_eq!(g.raster.y_max, r.y_max);
    assert_eq!(g.tile, Some([256, 256]));
    assert_eq!(g.crs.epsg, Some(32633));
    // 700 → 350 → 175: two overviews.
    assert_eq!(g.overviews, 2);
    assert!(bytes[8..].starts_with(b"GDAL_STRUCTURAL_METADATA_SIZE="));
}

/// Set the first IFD's inline value of `tag` to `v`.
fn patch(bytes: &mut [u8], tag: u16, v: u32) {
    let ifd = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    let n = u16::from_le_bytes(bytes[ifd..ifd + 2].try_into().unwrap()) as usize;
    for k in 0..n {
        let e = ifd + 2 + 12 * k;
        if u16::from_le_bytes(bytes[e..e + 2].try_into().unwrap()) == tag {
            let ty = u16::from_le_bytes(bytes[e + 2..e + 4].try_into().unwrap());
            if ty == 3 {
                bytes[e + 8..e + 10].copy_from_slice(&(v as u16).to_le_bytes());
            } else {
                bytes[e + 8..e + 12].copy_from_slice(&v.to_le_bytes());
            }
            return;
        }
    }
    panic!("tag {tag} not found");
}

#[test]
fn hostile_sizes_and_damaged_tiles_are_errors_not_panics() {
    let good = encode_cog(&raster(700, 300), &Crs::epsg(32633), "t").unwrap();
    for (tag, v) in [
        (TILE_WIDTH, 65535),
        (TILE_WIDTH, 0),
        (IMAGE_WIDTH, u32::MAX),
        (IMAGE_LENGTH, 1 << 30),
    ] {
        let mut b = good.clone();
        patch(&mut b, tag, v);
        let e = read_geotiff(&b).unwrap_err().to_string();
        assert!(!e.is_empty());
    }
    // A damaged tile: its Deflate stream no longer inflates to a tile.
    let mut b = good.clone();
    let end = b.len();
    for x in &mut b[end - 600..end - 500] {
        *x = !*x;
    }
    assert!(read_geotiff(&b).is_err());
    assert!(read_geotiff(&good[..good.len() / 2]).is_err());
}

#[test]
fn overview_cells_average_only_valid_cells() {
    let l = Level {
        width: 2,
        height: 2,
        data: vec![1.0, -9999.0, 3.0, -9999.0],
    };
    assert_eq!(halve(&l, -9999.0).data, vec![2.0]);
    let empty = Level {
        width: 1,
        height: 1,
        data: vec![f32::NAN],
    };
    assert!(halve(&empty, f32::NAN).data[0].is_nan());
}
