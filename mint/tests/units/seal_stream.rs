//! Tests of `mint::seal::stream` (src/seal/stream.rs).
use mint::seal::stream::*;

fn round(len: usize) {
    let key = [9u8; 32];
    let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    let mut sealed = Vec::new();
    assert_eq!(
        seal(&key, "a.bin", &mut &data[..], &mut sealed).unwrap(),
        len as u64
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.bin.enc");
    std::fs::write(&p, &sealed).unwrap();
    let mut back = Vec::new();
    open(&key, "a.bin", &p, &mut back).unwrap();
    assert_eq!(back, data);
    // Renamed, truncated by a whole segment, flipped: all refused.
    assert!(open(&key, "b.bin", &p, &mut Vec::new()).is_err());
    if len > SEGMENT {
        std::fs::write(&p, &sealed[..16 + SEGMENT + TAG]).unwrap();
        assert!(open(&key, "a.bin", &p, &mut Vec::new()).is_err());
    }
    let mut flipped = sealed.clone();
    let k = flipped.len() / 2;
    flipped[k] ^= 0x40;
    std::fs::write(&p, &flipped).unwrap();
    let err = open(&key, "a.bin", &p, &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("a.bin.enc"), "{err}");
}

#[test]
fn stream_round_trips_and_refuses_tampering() {
    round(0);
    round(1000);
    round(SEGMENT);
    round(2 * SEGMENT + 17);
}
