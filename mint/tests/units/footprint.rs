//! Tests of `mint::footprint` (src/footprint/mod.rs).
use alloy::primitives::keccak256;
use capture::layout::FOOTPRINT_JSON;
use mint::footprint::*;

fn cells_near(lat: f64, lon: f64, k: u32) -> Vec<u64> {
    let c = h3o::LatLng::new(lat, lon)
        .unwrap()
        .to_cell(cells::resolution());
    c.grid_disk_safe(k).map(u64::from).collect()
}

fn parcel_source() -> FootprintSource {
    FootprintSource::Parcel {
        file: "p.geojson".into(),
        sha256: "00".into(),
        crs: "OGC:CRS84".into(),
    }
}

#[test]
fn root_is_the_contracts_batch_commitment() {
    let f = Footprint::from_cells(cells_near(45.1, 15.0, 2), parcel_source()).unwrap();
    assert_eq!(f.cell_count(), 19);
    // One batch: keccak256(abi.encodePacked(keccak256(abi.encodePacked(uint64[] cells)))).
    let words: Vec<u8> = f
        .cells
        .iter()
        .flat_map(|c| {
            let mut w = [0u8; 32];
            w[24..].copy_from_slice(&c.to_be_bytes());
            w
        })
        .collect();
    let batch = keccak256(&words);
    assert_eq!(f.root(), keccak256(batch.as_slice()).0);
    assert_eq!(f.root_hex(), keccak256(batch.as_slice()).to_string());
    // Order is part of the commitment: it is always ascending.
    assert!(f.cells.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn overlap_and_batches() {
    let a = Footprint::from_cells(cells_near(45.1, 15.0, 2), parcel_source()).unwrap();
    let b = Footprint::from_cells(cells_near(45.1, 15.0005, 2), parcel_source()).unwrap();
    let both = a.overlap(&b);
    assert!(!both.is_empty() && both.len() < 19);
    assert!(
        both.iter()
            .all(|c| a.cells.contains(c) && b.cells.contains(c))
    );
    assert_eq!(a.overlap(&a), a.cells);
    let batches: Vec<&[u64]> = a.batches(5).collect();
    assert_eq!(
        batches.iter().map(|b| b.len()).collect::<Vec<_>>(),
        [5, 5, 5, 4]
    );
    assert_eq!(batches.concat(), a.cells);
    assert_eq!(a.batches(0).count(), 19);
}

#[test]
fn from_cells_refuses_other_resolutions() {
    let coarse = u64::from(
        h3o::LatLng::new(45.0, 15.0)
            .unwrap()
            .to_cell(h3o::Resolution::Eleven),
    );
    let e = Footprint::from_cells([coarse], parcel_source()).unwrap_err();
    assert!(e.to_string().contains("resolution"), "{e}");
    assert!(Footprint::from_cells([12345], parcel_source()).is_err());
}

#[test]
fn file_round_trip_and_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FOOTPRINT_JSON);
    let f = Footprint::from_cells(cells_near(-33.9, 18.4, 1), parcel_source()).unwrap();
    f.write(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(&format!("\"{:x}\"", f.cells[0])), "{text}");
    assert!(text.contains("\"kind\": \"parcel\""), "{text}");
    assert_eq!(Footprint::read(&path).unwrap(), f);

    let mut unsorted = f.clone();
    unsorted.cells.swap(0, 1);
    serde_json::to_writer(std::fs::File::create(&path).unwrap(), &unsorted).unwrap();
    let e = Footprint::read(&path).unwrap_err().to_string();
    assert!(e.contains(FOOTPRINT_JSON) && e.contains("sorted"), "{e}");

    let mut stale = f.clone();
    stale.cells.pop();
    serde_json::to_writer(std::fs::File::create(&path).unwrap(), &stale).unwrap();
    let e = Footprint::read(&path).unwrap_err().to_string();
    assert!(e.contains("area_m2"), "{e}");

    std::fs::write(&path, text.replace(&format!("{:x}", f.cells[0]), "zz")).unwrap();
    let e = Footprint::read(&path).unwrap_err().to_string();
    assert!(e.contains("not a hex H3 index"), "{e}");
}
