//! Tests of `mint::cid` (src/cid.rs).
use mint::cid::*;

#[test]
fn known_cids() {
    let o = ImportOptions::default();
    // Well-known: the empty raw block, and "abc" (checked against the importer).
    assert_eq!(
        import_bytes(b"", &o).unwrap().cid.to_string(),
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    );
    assert_eq!(
        import_bytes(b"abc", &o).unwrap().cid.to_string(),
        "bafkreif2pall7dybz7vecqka3zo24irdwabwdi4wc55jznaq75q7eaavvu"
    );
    // The empty folder, the well-known `bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354`.
    let d = tempfile::tempdir().unwrap();
    assert_eq!(
        import_dir(d.path(), &o).unwrap().root.cid.to_string(),
        "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354"
    );
}

#[test]
fn base32_round_trip_and_parse() {
    for n in 0..40 {
        let b: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
        assert_eq!(base32_decode(&base32_lower(&b)).unwrap(), b);
    }
    assert_eq!(base32_lower(b"foobar"), "mzxw6ytboi"); // RFC 4648 §10, lower case
    let c = Cid::raw(b"abc");
    let parsed: Cid = c.to_string().parse().unwrap();
    assert_eq!(parsed, c);
    assert_eq!(parsed.codec(), CODEC_RAW);
    assert!("Qmabc".parse::<Cid>().is_err());
    assert!("bafy!".parse::<Cid>().is_err());
}

#[test]
fn reader_and_bytes_agree_on_layouts() {
    let data: Vec<u8> = (0..100_000u32)
        .map(|i| i.wrapping_mul(2_654_435_761) as u8)
        .collect();
    for (chunk_size, max_children) in [(1000, 3), (1000, 174), (4096, 2), (100_000, 174)] {
        let o = ImportOptions {
            chunk_size,
            max_children,
        };
        let a = import_bytes(&data, &o).unwrap();
        let b = import_reader(&data[..], &o).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.file_size, data.len() as u64);
    }
    assert!(
        import_bytes(
            b"x",
            &ImportOptions {
                chunk_size: 1,
                max_children: 1
            }
        )
        .is_err()
    );
}
