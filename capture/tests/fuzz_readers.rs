//! A `cargo-fuzz`-free fuzz harness on stable Rust over every reader's header and parse path.
//!
//! Seeds: every file under `$TWINMINT_DATA/formats` (LAS 1.2/1.4, LAZ, E57, …) plus small PLY
//! (ASCII and binary), XYZ/CSV and OBJ samples generated here. Each run takes a seed file, applies
//! 1–4 random mutations from a seeded ChaCha stream — bit flips, byte overwrites with boundary
//! values (0, 0xFF, 0x7FFFFFFF, u32/u64 max), truncation, duplicated or deleted slices, and
//! format-aware header edits (LAS point counts, record length, point format, scale, offsets,
//! VLR/EVLR fields, the LAZ chunk table offset; PLY element counts; text column runs) — writes the
//! mutant to a temp file and calls `capture::read` with default options.
//!
//! It asserts that no panic escapes the reader (a panic fails the run with the seed and the mutant
//! saved to `$TWINMINT_FUZZ_OUT`, default the temp dir, for a new regression test), that every
//! error names the file, and that a success is not silently wrong where that is detectable: the
//! cloud is non-empty, its coordinates are finite and its columns are consistent.
//!
//! Bounded by time: `TWINMINT_FUZZ_SECS` (default 20 s). Deterministic given `TWINMINT_FUZZ_SEED`
//! (default 12; printed): run `i` uses the ChaCha stream `(seed, i)`, so a failing run replays
//! alone with `TWINMINT_FUZZ_SEED=<seed> TWINMINT_FUZZ_RUN=<i>`. Prints the run count, runs per
//! second and the per-outcome table.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use capture::{CancelToken, CaptureError, NoProgress, ReadOptions};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use test_support::data_dir as data_root;

struct Seed {
    name: String,
    ext: String,
    bytes: Vec<u8>,
}

fn generated_seeds() -> Vec<Seed> {
    let mut v = Vec::new();
    let mut add = |name: &str, ext: &str, bytes: Vec<u8>| {
        v.push(Seed {
            name: name.into(),
            ext: ext.into(),
            bytes,
        })
    };
    let mut ascii = String::from(
        "ply\nformat ascii 1.0\nelement vertex 6\nproperty float x\nproperty float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nelement face 2\nproperty list uchar int vertex_indices\nend_header\n",
    );
    for i in 0..6 {
        ascii += &format!("{}.5 {} {}.25 {} 20 30\n", i, i * 2, i % 3, i * 40);
    }
    ascii += "3 0 1 2\n3 3 4 5\n";
    add("gen-ascii", "ply", ascii.into_bytes());
    let mut bin = b"ply\nformat binary_little_endian 1.0\nelement vertex 5\nproperty double x\nproperty double y\nproperty double z\nproperty float intensity\nend_header\n".to_vec();
    for i in 0..5 {
        for v in [500_000.0 + i as f64, 5_000_000.0 - i as f64, 100.0] {
            bin.extend_from_slice(&f64::to_le_bytes(v));
        }
        bin.extend_from_slice(&(i as f32 * 0.2).to_le_bytes());
    }
    add("gen-binary", "ply", bin);
    let mut xyz = String::from("//X Y Z Intensity R G B\n");
    for i in 0..8 {
        xyz += &format!(
            "{}.125 {}.5 {} {} 10 20 30\n",
            300 + i,
            4000 - i,
            i,
            i * 100
        );
    }
    add("gen", "xyz", xyz.into_bytes());
    add(
        "gen",
        "csv",
        b"x,y,z,classification\n1,2,3,2\n4,5,6,5\n7,8,9,2\n".to_vec(),
    );
    add(
        "gen",
        "pts",
        b"3\n1 2 3 -100 1 2 3\n4 5 6 0 4 5 6\n7 8 9 100 7 8 9\n".to_vec(),
    );
    add(
        "gen",
        "obj",
        b"# gen\nv 1 2 3 0.5 0.5 0.5\nv 4 5 6 1 0 0\nv 7 8 10 0 1 0\nv 1 8 2 0 0 1\nf 1 2 3\nf 1/1 3/3 4/4\nf -1 -2 -3\n".to_vec(),
    );
    v
}

fn seeds() -> Vec<Seed> {
    let dir = data_root().join("formats");
    let mut v = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; set TWINMINT_DATA", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    for p in paths {
        v.push(Seed {
            name: p.file_stem().unwrap().to_string_lossy().into(),
            ext: p
                .extension()
                .map(|e| e.to_string_lossy().to_string())
                .unwrap_or_default(),
            bytes: std::fs::read(&p).unwrap(),
        });
    }
    v.extend(generated_seeds());
    v
}

const BOUNDARY32: [u32; 6] = [0, 1, 0xff, 0x7fff_ffff, 0xffff_fffe, u32::MAX];

/// Apply one random mutation; returns its name for the table.
fn mutate(rng: &mut ChaCha8Rng, b: &mut Vec<u8>, ext: &str) -> &'static str {
    if b.is_empty() {
        b.push(rng.random());
        return "grow";
    }
    let las = b.len() >= 227 && b.starts_with(b"LASF");
    let text = matches!(ext, "ply" | "xyz" | "csv" | "pts" | "obj");
    let pick = rng.random_range(0..if las || text { 10 } else { 7 });
    let len = b.len();
    match pick {
        0 | 1 => {
            // Bit flips: in the header region half the time (where the interesting fields are).
            let n = rng.random_range(1..8);
            for _ in 0..n {
                let i = if rng.random_bool(0.5) {
                    rng.random_range(0..len.min(512))
                } else {
                    rng.random_range(0..len)
                };
                b[i] ^= 1 << rng.random_range(0..8);
            }
            "bit flips"
        }
        2 => {
            let i = rng.random_range(0..len);
            let v = BOUNDARY32[rng.random_range(0..BOUNDARY32.len())];
            let bytes = v.to_le_bytes();
            let w = rng.random_range(1..=4).min(len - i);
            b[i..i + w].copy_from_slice(&bytes[..w]);
            "boundary value"
        }
        3 => {
            b.truncate(rng.random_range(0..len));
            "truncation"
        }
        4 => {
            let i = rng.random_range(0..len);
            let n = rng.random_range(1..=(len - i).min(4096));
            b.drain(i..i + n);
            "deleted slice"
        }
        5 => {
            let i = rng.random_range(0..len);
            let n = rng.random_range(1..=(len - i).min(4096));
            let slice = b[i..i + n].to_vec();
            let at = rng.random_range(0..=len);
            b.splice(at..at, slice);
            "duplicated slice"
        }
        6 => {
            let i = rng.random_range(0..len);
            b[i] = [0u8, 0xff, 0x7f, 0x80][rng.random_range(0..4)];
            "byte overwrite"
        }
        _ if las => las_field(rng, b),
        _ => text_edit(rng, b),
    }
}

/// Edit one LAS header field that a reader trusts.
fn las_field(rng: &mut ChaCha8Rng, b: &mut [u8]) -> &'static str {
    let u32v = BOUNDARY32[rng.random_range(0..BOUNDARY32.len())];
    let u64v = [0u64, 1, u32::MAX as u64, 1 << 40, u64::MAX][rng.random_range(0..5)];
    let f64v = [0.0, -0.01, 1e-300, 1e300, f64::NAN, f64::INFINITY, -1e9][rng.random_range(0..7)];
    let put = |b: &mut [u8], o: usize, v: &[u8]| {
        if o + v.len() <= b.len() {
            b[o..o + v.len()].copy_from_slice(v)
        }
    };
    match rng.random_range(0..10) {
        0 => {
            put(b, 107, &u32v.to_le_bytes());
            "LAS legacy point count"
        }
        1 => {
            put(b, 247, &u64v.to_le_bytes());
            "LAS 64-bit point count"
        }
        2 => {
            put(b, 105, &(u32v as u16).to_le_bytes());
            "LAS record length"
        }
        3 => {
            b[104] = [0u8, 3, 6, 10, 11, 42, 0x80 | 3, 0xff][rng.random_range(0..8)];
            "LAS point format"
        }
        4 => {
            put(b, 131 + 8 * rng.random_range(0..3), &f64v.to_le_bytes());
            "LAS scale"
        }
        5 => {
            put(b, 155 + 8 * rng.random_range(0..9), &f64v.to_le_bytes());
            "LAS offset/bounds"
        }
        6 => {
            put(b, 96, &u32v.to_le_bytes());
            "LAS point data offset"
        }
        7 => {
            put(b, 100, &u32v.to_le_bytes());
            "LAS VLR count"
        }
        8 => {
            put(b, 235 + 8 * rng.random_range(0..2), &u64v.to_le_bytes());
            "LAS EVLR fields"
        }
        _ => {
            // The LAZ chunk table offset (first 8 bytes of the point data) or its chunk count.
            let off = u32::from_le_bytes(b[96..100].try_into().unwrap()) as usize;
            if off + 8 <= b.len() {
                let table = u64::from_le_bytes(b[off..off + 8].try_into().unwrap()) as usize;
                if rng.random_bool(0.5) && table.saturating_add(8) <= b.len() {
                    put(b, table + 4, &u32v.to_le_bytes());
                } else {
                    put(b, off, &u64v.to_le_bytes());
                }
            }
            "LAZ chunk table"
        }
    }
}

/// Edit a number or a line of a text format.
fn text_edit(rng: &mut ChaCha8Rng, b: &mut Vec<u8>) -> &'static str {
    let digits: Vec<usize> = (0..b.len()).filter(|&i| b[i].is_ascii_digit()).collect();
    match rng.random_range(0..3) {
        0 if !digits.is_empty() => {
            let i = digits[rng.random_range(0..digits.len())];
            let v = [
                "18446744073709551615",
                "4294967295",
                "0",
                "-1",
                "1e308",
                "nan",
            ][rng.random_range(0..6)];
            b.splice(i..i + 1, v.bytes());
            "text number (count) edit"
        }
        1 => {
            let at = rng.random_range(0..=b.len());
            let n = [65, 200, 5000][rng.random_range(0..3)];
            b.splice(at..at, "7 ".repeat(n).into_bytes());
            "text column run"
        }
        _ => {
            let at = rng.random_range(0..=b.len());
            b.splice(at..at, [0u8, b'\n', b'\r', 0xff, b' ']);
            "text control bytes"
        }
    }
}

/// The kind of an outcome, for the table.
fn kind(e: &CaptureError) -> &'static str {
    match e {
        CaptureError::Io { .. } => "Io",
        CaptureError::Empty { .. } => "Empty",
        CaptureError::UnknownFormat { .. } => "UnknownFormat",
        CaptureError::WrongExtension { .. } => "WrongExtension",
        CaptureError::Invalid { .. } => "Invalid",
        CaptureError::Truncated { .. } | CaptureError::TruncatedAt { .. } => "Truncated",
        CaptureError::Corrupt { .. } => "Corrupt (decoder failure contained)",
        CaptureError::Las { .. } => "Las",
        CaptureError::E57 { .. } => "E57",
        CaptureError::Parse { .. } => "Parse",
        CaptureError::NoPoints { .. } | CaptureError::ZeroPoints { .. } => "no points",
        _ => "other error",
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[test]
fn fuzz_readers() {
    let secs = env_u64("TWINMINT_FUZZ_SECS").unwrap_or(20);
    let seed = env_u64("TWINMINT_FUZZ_SEED").unwrap_or(12);
    let only = env_u64("TWINMINT_FUZZ_RUN");
    let seeds = seeds();
    let dir = tempfile::tempdir().unwrap();
    let out = std::env::var_os("TWINMINT_FUZZ_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    println!(
        "fuzz_readers: seed {seed}, {secs} s, {} seed files",
        seeds.len()
    );
    let start = Instant::now();
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    let mut mutations: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut runs = 0u64;
    let mut i = only.unwrap_or(0);
    while start.elapsed() < Duration::from_secs(secs) || (only.is_some() && runs == 0) {
        let (s, b, applied) = make_mutant(&seeds, seed, i);
        for m in applied {
            *mutations.entry(m).or_default() += 1;
        }
        let name = format!("{}-run{i}.{}", s.name, s.ext);
        let p = dir.path().join(&name);
        std::fs::write(&p, &b).unwrap();
        let outcome = run_one(&p, &name);
        match outcome {
            Ok(k) => *outcomes.entry(format!("{}: {k}", s.ext)).or_default() += 1,
            Err(why) => {
                let keep = out.join(format!("fuzz-crasher-seed{seed}-{name}"));
                let _ = std::fs::write(&keep, &b);
                panic!(
                    "run {i} (TWINMINT_FUZZ_SEED={seed} TWINMINT_FUZZ_RUN={i}) on {} → {why}; mutant kept at {}",
                    s.name,
                    keep.display()
                );
            }
        }
        let _ = std::fs::remove_file(&p);
        runs += 1;
        if only.is_some() {
            break;
        }
        i += 1;
    }
    let t = start.elapsed().as_secs_f64();
    // Written to the stderr handle, not through `println!`, so CI logs show the table even when
    // the test harness captures output.
    let mut table = format!(
        "fuzz_readers: {runs} runs in {t:.1} s ({:.0} runs/s), seed {seed}\n",
        runs as f64 / t
    );
    table += &format!("{:<48} {:>8}\n", "outcome (by extension)", "runs");
    for (k, n) in &outcomes {
        table += &format!("{k:<48} {n:>8}\n");
    }
    table += &format!("{:<48} {:>8}\n", "mutation", "applied");
    for (k, n) in &mutations {
        table += &format!("{k:<48} {n:>8}\n");
    }
    let _ = std::io::stderr().lock().write_all(table.as_bytes());
    assert!(runs > 0);
}

/// The mutant of run `i` under `seed`: the seed file, the bytes and the mutations applied.
fn make_mutant(seeds: &[Seed], seed: u64, i: u64) -> (&Seed, Vec<u8>, Vec<&'static str>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(i);
    let s = &seeds[rng.random_range(0..seeds.len())];
    let mut b = s.bytes.clone();
    let mut applied = Vec::new();
    for _ in 0..rng.random_range(1..=4) {
        applied.push(mutate(&mut rng, &mut b, &s.ext));
    }
    (s, b, applied)
}

/// Crashers the harness found, replayed by (seed, run) — the mutant is regenerated from the
/// shared files, nothing binary is committed. Changing `mutate` changes what these replay, so a
/// crasher also gets a hand-written case in `hostile.rs`.
const CRASHERS: &[(u64, u64, &str)] = &[(
    12,
    1957,
    "extrabytes.las, duplicated slice and bit flips: a far outlier overflowed the up-axis grid key",
)];

#[test]
fn fuzz_crashers_stay_fixed() {
    let seeds = seeds();
    let dir = tempfile::tempdir().unwrap();
    for &(seed, run, what) in CRASHERS {
        let (s, b, applied) = make_mutant(&seeds, seed, run);
        let name = format!("{}-run{run}.{}", s.name, s.ext);
        let p = dir.path().join(&name);
        std::fs::write(&p, &b).unwrap();
        let r = run_one(&p, &name);
        println!("seed {seed} run {run} ({what}; {applied:?}): {r:?}");
        assert!(r.is_ok(), "{what}: {r:?}");
    }
}

/// Read one mutant, with every attribute and with the viewer's selection (layered LAZ then goes
/// through the selective decompressor): `Ok(outcome kind)` of the full read, or `Err(why one of
/// them is a failure)`.
fn run_one(p: &Path, name: &str) -> Result<String, String> {
    let full = read_one(p, name, capture::Fields::ALL)?;
    read_one(p, name, capture::Fields::VIEWER).map_err(|e| format!("viewer fields: {e}"))?;
    Ok(full)
}

fn read_one(p: &Path, name: &str, fields: capture::Fields) -> Result<String, String> {
    let r = std::panic::catch_unwind(|| {
        capture::read(
            p,
            &ReadOptions {
                fields,
                ..Default::default()
            },
            &mut NoProgress,
            &CancelToken::new(),
        )
    });
    match r {
        Err(payload) => Err(format!(
            "panic escaped the reader: {}",
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
        Ok(Err(e)) => {
            let msg = e.to_string();
            if !msg.contains(name) {
                return Err(format!("error does not name the file: {msg}"));
            }
            Ok(kind(&e).to_string())
        }
        Ok(Ok(c)) => {
            if c.is_empty() {
                return Err("success with an empty cloud".into());
            }
            if let Err(why) = c.check_columns() {
                return Err(format!("success with inconsistent columns: {why}"));
            }
            if !c.origin.iter().all(|v| v.is_finite())
                || !c.positions.iter().all(|p| p.iter().all(|v| v.is_finite()))
            {
                return Err("success with non-finite coordinates".into());
            }
            Ok(if c.provenance.warnings.is_empty() {
                "ok".into()
            } else {
                "ok with warnings".into()
            })
        }
    }
}

#[test]
fn generated_seeds_read_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    for s in generated_seeds() {
        let p = dir.path().join(format!("{}.{}", s.name, s.ext));
        std::fs::write(&p, &s.bytes).unwrap();
        let c = capture::read(
            &p,
            &ReadOptions::default(),
            &mut NoProgress,
            &CancelToken::new(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(!c.is_empty());
    }
}
