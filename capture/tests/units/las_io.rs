//! Tests of `capture::las_io` (src/las_io.rs).
use capture::las_io::laz_aligned;

/// LAZ reads take whole rounds of chunks over the decompressor's threads (LASzip's default
/// 50 000-point chunks here), and uncompressed files keep the asked-for size.
#[test]
fn laz_reads_take_whole_rounds_of_chunks() {
    let mut b = las::Builder::from((1, 4));
    b.point_format = las::point::Format::new(6).unwrap();
    b.point_format.is_compressed = true;
    let mut laz = b.into_header().unwrap();
    laz.add_laz_vlr().unwrap();
    let pool = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    };
    assert_eq!(pool(2).install(|| laz_aligned(1 << 18, &laz)), 200_000);
    assert_eq!(pool(1).install(|| laz_aligned(1 << 18, &laz)), 250_000);
    // Below one round: kept as asked (memory bound, cancel grain).
    assert_eq!(pool(2).install(|| laz_aligned(1_000, &laz)), 1_000);
    let mut b = las::Builder::from((1, 4));
    b.point_format = las::point::Format::new(6).unwrap();
    let las = b.into_header().unwrap();
    assert_eq!(pool(2).install(|| laz_aligned(1 << 18, &las)), 1 << 18);
}
