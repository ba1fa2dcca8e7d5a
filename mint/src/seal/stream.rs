//! File encryption: AES-256-GCM in the STREAM construction (Hoang, Reyhanitabar, Rogaway &
//! Vizár 2015, "Online authenticated-encryption and its nonce-reuse misuse-resistance"), so a
//! cloud of any size is sealed in 1 MiB segments and every segment, its position and the end of
//! the file are authenticated: a flipped byte, a reordered, dropped or appended segment, or a
//! truncated file all fail with the file's name.
//!
//! Layout: `MAGIC` (8 bytes) ‖ nonce prefix (8 random bytes) ‖ segments. Segment `i` is
//! AES-256-GCM(file key, nonce = prefix ‖ be32(i), aad = file name ‖ last-flag byte) of at most
//! [`SEGMENT`] bytes, tag appended. The file key is HKDF-SHA256(content key, info = `MAGIC` ‖
//! file name), so the same content key never encrypts two files under one key, and a file
//! renamed in the folder does not decrypt.

use std::io::{Read, Write};
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use rand08::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::error::{SealError, SealResult};

/// First bytes of every sealed file.
pub const MAGIC: &[u8; 8] = b"TMSEAL1\n";
/// Plaintext bytes per segment.
pub const SEGMENT: usize = 1 << 20;
pub const TAG: usize = 16;

fn file_cipher(content_key: &[u8; 32], name: &str) -> Aes256Gcm {
    let mut info = MAGIC.to_vec();
    info.extend_from_slice(name.as_bytes());
    let hk = Hkdf::<Sha256>::new(None, content_key);
    let mut k = Zeroizing::new([0u8; 32]);
    hk.expand(&info, k.as_mut()).expect("valid HKDF length");
    Aes256Gcm::new_from_slice(k.as_ref()).expect("32-byte key")
}

fn nonce(prefix: &[u8; 8], i: u32) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..8].copy_from_slice(prefix);
    n[8..].copy_from_slice(&i.to_be_bytes());
    n
}

fn aad(name: &str, last: bool) -> Vec<u8> {
    let mut a = name.as_bytes().to_vec();
    a.push(last as u8);
    a
}

/// Read up to `buf.len()` bytes (fewer only at the end).
fn fill(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Encrypt `src` as `name` into `dst`. Returns the plaintext length.
pub fn seal(
    content_key: &[u8; 32],
    name: &str,
    src: &mut impl Read,
    dst: &mut impl Write,
) -> std::io::Result<u64> {
    let cipher = file_cipher(content_key, name);
    let mut prefix = [0u8; 8];
    rand08::rngs::OsRng.fill_bytes(&mut prefix);
    dst.write_all(MAGIC)?;
    dst.write_all(&prefix)?;
    // One segment of look-ahead to know which segment is the last.
    let mut cur = vec![0u8; SEGMENT];
    let mut next = vec![0u8; SEGMENT];
    let mut n = fill(src, &mut cur)?;
    let mut total = n as u64;
    let mut i: u32 = 0;
    loop {
        let m = if n == SEGMENT {
            fill(src, &mut next)?
        } else {
            0
        };
        let last = m == 0;
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce(&prefix, i)),
                Payload {
                    msg: &cur[..n],
                    aad: &aad(name, last),
                },
            )
            .map_err(|_| std::io::Error::other("AES-GCM refused a segment"))?;
        dst.write_all(&ct)?;
        if last {
            return Ok(total);
        }
        std::mem::swap(&mut cur, &mut next);
        n = m;
        total += m as u64;
        i = i
            .checked_add(1)
            .ok_or_else(|| std::io::Error::other("file too large to seal (2^32 segments)"))?;
    }
}

/// Decrypt the sealed file `name` at `path` into `dst`. Any alteration is
/// [`SealError::Tampered`] naming the file; nothing is written for a segment that does not
/// authenticate (the caller writes to a temporary file and discards it on error).
pub fn open(
    content_key: &[u8; 32],
    name: &str,
    path: &Path,
    dst: &mut impl Write,
) -> SealResult<u64> {
    let tampered = |why: &str| SealError::Tampered {
        path: path.to_path_buf(),
        reason: why.to_string(),
    };
    let f = std::fs::File::open(path).map_err(|e| SealError::io(path, e))?;
    let mut r = std::io::BufReader::new(f);
    let mut head = [0u8; 16];
    if fill(&mut r, &mut head).map_err(|e| SealError::io(path, e))? != 16 || &head[..8] != MAGIC {
        return Err(tampered("not a TwinMint sealed file (bad header)"));
    }
    let prefix: [u8; 8] = head[8..].try_into().expect("8 bytes");
    let cipher = file_cipher(content_key, name);
    let seg = SEGMENT + TAG;
    let mut cur = vec![0u8; seg];
    let mut next = vec![0u8; seg];
    let mut n = fill(&mut r, &mut cur).map_err(|e| SealError::io(path, e))?;
    let mut i: u32 = 0;
    let mut total = 0u64;
    loop {
        let m = if n == seg {
            fill(&mut r, &mut next).map_err(|e| SealError::io(path, e))?
        } else {
            0
        };
        let last = m == 0;
        let pt = cipher
            .decrypt(
                Nonce::from_slice(&nonce(&prefix, i)),
                Payload {
                    msg: &cur[..n],
                    aad: &aad(name, last),
                },
            )
            .map_err(|_| {
                tampered(&format!(
                    "segment {i} does not authenticate (altered, truncated or not sealed with this key)"
                ))
            })?;
        dst.write_all(&pt).map_err(|e| SealError::io(path, e))?;
        total += pt.len() as u64;
        if last {
            return Ok(total);
        }
        std::mem::swap(&mut cur, &mut next);
        n = m;
        i += 1;
    }
}
