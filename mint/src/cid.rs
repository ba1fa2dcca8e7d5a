//! IPFS CIDs computed locally, byte-for-byte as the npm `ipfs-unixfs-importer` (17.x) computes
//! them with TwinMint's package profile — so the CIDs written into the token metadata are the
//! ones any IPFS node reports for the same bytes, without a node or a network.
//!
//! Profile (importer options `cidVersion: 1, rawLeaves: true, reduceSingleLeafToSelf: true`,
//! `chunker: fixedSize({ chunkSize: 1048576 })`, `layout: balanced({ maxChildrenPerNode: 174 })`,
//! no `mode`/`mtime`, hash sha2-256):
//!
//! - **CID**: CIDv1 = `varint(1) ‖ varint(codec) ‖ multihash`, multihash = `0x12 0x20 ‖
//!   SHA-256(block)`; printed in multibase base32 lower case (prefix `b`, RFC 4648 alphabet, no
//!   padding).
//! - **File of at most one chunk** (including the empty file): the chunk itself is the block,
//!   codec `raw` (0x55). The empty file is the raw block of zero bytes
//!   (`bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku`) — the importer's fixed-size
//!   chunker emits one empty chunk when it saw no bytes.
//! - **Larger file**: 1 MiB raw leaves, grouped left to right into nodes of at most 174 links,
//!   level by level until one root remains (`balanced` layout; a trailing group of one child
//!   still gets its own parent node). Each node is dag-pb (0x70) holding UnixFS
//!   `Data { Type = File, filesize = Σ child bytes, blocksizes = [child bytes…] }` and one
//!   `PBLink { Hash, Name = "", Tsize }` per child, where `Tsize` is the child's cumulative DAG
//!   size (a raw leaf: its length; a node: its block length plus its links' `Tsize`s).
//! - **Folder**: a dag-pb node with UnixFS `Data { Type = Directory }` and one link per entry
//!   (`Name` = the entry's name, `Tsize` = its cumulative size), links sorted by name bytes.
//!   Flat only: when the importer would switch to a HAMT shard (the sum of name bytes and CID
//!   bytes over the entries exceeds 262,144, its `links-bytes` estimate), we refuse instead of
//!   guessing. Symbolic links and special files are refused too.
//!
//! Serialisation follows the specs the importer follows: dag-pb canonical form (PBNode `Links`,
//! field 2, serialised *before* `Data`, field 1; PBLink fields `Hash`, `Name`, `Tsize` in that
//! order; the empty name is still written), and the UnixFS protobuf (proto2, `blocksizes`
//! unpacked: one `0x20` tag per value). See <https://ipld.io/specs/codecs/dag-pb/spec/> and
//! <https://specs.ipfs.tech/unixfs/>. `mint/tests/cid_importer.rs` checks all of this against the
//! real importer.

use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::error::{MintError, Result};

/// Fixed chunk size: 1 MiB.
pub const CHUNK_SIZE: usize = 1 << 20;
/// Links per node in the balanced layout (the importer's default, from go-ipfs).
pub const MAX_CHILDREN: usize = 174;
/// Multicodec `raw`.
pub const CODEC_RAW: u64 = 0x55;
/// Multicodec `dag-pb`.
pub const CODEC_DAG_PB: u64 = 0x70;
/// Multihash code of sha2-256.
pub const MULTIHASH_SHA2_256: u64 = 0x12;
/// The importer's `shardSplitThresholdBytes` default.
pub const SHARD_SPLIT_THRESHOLD_BYTES: usize = 262_144;

/// A CIDv1 with a sha2-256 multihash, kept in binary form. Displays and serialises as base32.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cid {
    bytes: Vec<u8>,
}

impl Cid {
    /// CIDv1 of `codec` over a SHA-256 `digest`.
    pub fn from_sha256(codec: u64, digest: [u8; 32]) -> Self {
        let mut bytes = Vec::with_capacity(36);
        put_varint(&mut bytes, 1);
        put_varint(&mut bytes, codec);
        put_varint(&mut bytes, MULTIHASH_SHA2_256);
        put_varint(&mut bytes, 32);
        bytes.extend_from_slice(&digest);
        Cid { bytes }
    }

    /// CID of a raw block.
    pub fn raw(block: &[u8]) -> Self {
        Self::from_sha256(CODEC_RAW, Sha256::digest(block).into())
    }

    /// CID of a dag-pb block.
    pub fn dag_pb(block: &[u8]) -> Self {
        Self::from_sha256(CODEC_DAG_PB, Sha256::digest(block).into())
    }

    /// Binary form (what dag-pb links store).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The content codec (`0x55` raw, `0x70` dag-pb).
    pub fn codec(&self) -> u64 {
        let (_, rest) = get_varint(&self.bytes).expect("valid CID");
        get_varint(rest).expect("valid CID").0
    }

    /// The SHA-256 digest of the block.
    pub fn digest(&self) -> [u8; 32] {
        self.bytes[self.bytes.len() - 32..].try_into().unwrap()
    }

    /// Parse CIDv1 binary with a sha2-256 multihash.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = |reason: &str| MintError::InvalidCid {
            value: hex::encode(bytes),
            reason: reason.to_string(),
        };
        let (version, rest) = get_varint(bytes).ok_or_else(|| bad("truncated version"))?;
        if version != 1 {
            return Err(bad("only CIDv1 is supported"));
        }
        let (_codec, rest) = get_varint(rest).ok_or_else(|| bad("truncated codec"))?;
        let (mh, rest) = get_varint(rest).ok_or_else(|| bad("truncated multihash"))?;
        let (len, rest) = get_varint(rest).ok_or_else(|| bad("truncated multihash"))?;
        if mh != MULTIHASH_SHA2_256 || len != 32 || rest.len() != 32 {
            return Err(bad("multihash is not a 32-byte sha2-256"));
        }
        Ok(Cid {
            bytes: bytes.to_vec(),
        })
    }
}

impl fmt::Display for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b{}", base32_lower(&self.bytes))
    }
}

impl fmt::Debug for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cid({self})")
    }
}

impl FromStr for Cid {
    type Err = MintError;
    /// Parse the base32 (`b…`) form.
    fn from_str(s: &str) -> Result<Self> {
        let body = s.strip_prefix('b').ok_or_else(|| MintError::InvalidCid {
            value: s.to_string(),
            reason: "expected multibase base32 lower case (prefix 'b')".into(),
        })?;
        let bytes = base32_decode(body).ok_or_else(|| MintError::InvalidCid {
            value: s.to_string(),
            reason: "invalid base32".into(),
        })?;
        Cid::from_bytes(&bytes).map_err(|e| match e {
            MintError::InvalidCid { reason, .. } => MintError::InvalidCid {
                value: s.to_string(),
                reason,
            },
            e => e,
        })
    }
}

impl Serialize for Cid {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Chunking and layout parameters. The defaults are TwinMint's profile; other values exist for
/// tests of multi-level layouts on small inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    pub chunk_size: usize,
    pub max_children: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            chunk_size: CHUNK_SIZE,
            max_children: MAX_CHILDREN,
        }
    }
}

impl ImportOptions {
    fn check(&self) -> Result<()> {
        if self.chunk_size == 0 {
            return Err(MintError::InvalidOption {
                option: "chunk_size",
                reason: "must be at least 1 byte".into(),
            });
        }
        if self.max_children < 2 {
            return Err(MintError::InvalidOption {
                option: "max_children",
                reason: "a balanced layout needs at least 2 links per node".into(),
            });
        }
        Ok(())
    }
}

/// A file or folder as imported: its root CID and sizes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Imported {
    pub cid: Cid,
    /// Cumulative DAG size: the sum of every block's length below and including the root (the
    /// importer's `size`, a parent link's `Tsize`).
    pub dag_size: u64,
    /// Bytes of file content (0 for folders).
    pub file_size: u64,
}

/// One entry of an imported folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirEntry {
    /// Path relative to the imported folder, `/`-separated.
    pub path: String,
    pub is_dir: bool,
    #[serde(flatten)]
    pub imported: Imported,
}

/// An imported folder: its root and every file and sub-folder, sorted by path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirImport {
    pub root: Imported,
    pub entries: Vec<DirEntry>,
}

/// Import bytes held in memory.
pub fn import_bytes(data: &[u8], options: &ImportOptions) -> Result<Imported> {
    options.check()?;
    let leaves: Vec<Imported> = if data.is_empty() {
        vec![leaf(data)]
    } else {
        data.par_chunks(options.chunk_size).map(leaf).collect()
    };
    Ok(balanced(leaves, options.max_children))
}

/// Import a stream (read to its end).
pub fn import_reader(mut reader: impl Read, options: &ImportOptions) -> std::io::Result<Imported> {
    options
        .check()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    let batch = 2 * rayon::current_num_threads().max(1);
    let mut leaves = Vec::new();
    loop {
        let mut chunks = Vec::with_capacity(batch);
        let mut eof = false;
        while chunks.len() < batch {
            let chunk = read_chunk(&mut reader, options.chunk_size)?;
            eof = chunk.len() < options.chunk_size;
            if !chunk.is_empty() {
                chunks.push(chunk);
            }
            if eof {
                break;
            }
        }
        leaves.par_extend(chunks.par_iter().map(|c| leaf(c)));
        if eof {
            break;
        }
    }
    if leaves.is_empty() {
        leaves.push(leaf(&[]));
    }
    Ok(balanced(leaves, options.max_children))
}

/// Import a file.
pub fn import_file(path: &Path, options: &ImportOptions) -> Result<Imported> {
    let f = fs::File::open(path).map_err(|e| MintError::io(path, e))?;
    import_reader(f, options).map_err(|e| MintError::io(path, e))
}

/// Import a folder recursively.
pub fn import_dir(path: &Path, options: &ImportOptions) -> Result<DirImport> {
    options.check()?;
    let mut entries = Vec::new();
    let root = dir_node(path, "", options, &mut entries)?;
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(DirImport { root, entries })
}

/// Import a file or a folder (its root only).
pub fn import_path(path: &Path, options: &ImportOptions) -> Result<Imported> {
    let meta = fs::symlink_metadata(path).map_err(|e| MintError::io(path, e))?;
    if meta.is_dir() {
        Ok(import_dir(path, options)?.root)
    } else {
        import_file(path, options)
    }
}

fn read_chunk(r: &mut impl Read, size: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(size);
    r.take(size as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

fn leaf(chunk: &[u8]) -> Imported {
    Imported {
        cid: Cid::raw(chunk),
        dag_size: chunk.len() as u64,
        file_size: chunk.len() as u64,
    }
}

/// The importer's `balanced` layout with `reduceSingleLeafToSelf`.
fn balanced(mut level: Vec<Imported>, max_children: usize) -> Imported {
    if level.len() == 1 {
        return level.pop().unwrap();
    }
    loop {
        let next: Vec<Imported> = level.chunks(max_children).map(file_node).collect();
        if next.len() == 1 {
            return next.into_iter().next().unwrap();
        }
        level = next;
    }
}

fn file_node(children: &[Imported]) -> Imported {
    // The importer drops children with no content (only possible for degenerate inputs).
    let children: Vec<&Imported> = children.iter().filter(|c| c.file_size > 0).collect();
    let file_size: u64 = children.iter().map(|c| c.file_size).sum();
    let mut data = vec![0x08, 0x02, 0x18]; // Type = File, filesize
    put_varint(&mut data, file_size);
    for c in &children {
        data.push(0x20); // blocksizes, unpacked
        put_varint(&mut data, c.file_size);
    }
    let links: Vec<(&Cid, &str, u64)> = children.iter().map(|c| (&c.cid, "", c.dag_size)).collect();
    let block = pb_node(&links, &data);
    Imported {
        cid: Cid::dag_pb(&block),
        dag_size: block.len() as u64 + links.iter().map(|l| l.2).sum::<u64>(),
        file_size,
    }
}

fn dir_node(
    path: &Path,
    rel: &str,
    options: &ImportOptions,
    entries: &mut Vec<DirEntry>,
) -> Result<Imported> {
    let cid_err = |p: &Path, reason: String| MintError::Cid {
        path: p.to_path_buf(),
        reason,
    };
    let mut children: Vec<(String, Imported)> = Vec::new();
    let listing = fs::read_dir(path).map_err(|e| MintError::io(path, e))?;
    for item in listing {
        let item = item.map_err(|e| MintError::io(path, e))?;
        let child: PathBuf = item.path();
        let name = item
            .file_name()
            .into_string()
            .map_err(|n| cid_err(&child, format!("name {n:?} is not UTF-8")))?;
        let child_rel = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let ft = item.file_type().map_err(|e| MintError::io(&child, e))?;
        let (imported, is_dir) = if ft.is_dir() {
            (dir_node(&child, &child_rel, options, entries)?, true)
        } else if ft.is_file() {
            (import_file(&child, options)?, false)
        } else if ft.is_symlink() {
            return Err(cid_err(&child, "symbolic links are not packaged".into()));
        } else {
            return Err(cid_err(&child, "not a regular file or folder".into()));
        };
        entries.push(DirEntry {
            path: child_rel,
            is_dir,
            imported: imported.clone(),
        });
        children.push((name, imported));
    }
    children.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let estimate: usize = children
        .iter()
        .map(|(n, c)| n.len() + c.cid.as_bytes().len())
        .sum();
    if estimate > SHARD_SPLIT_THRESHOLD_BYTES {
        return Err(cid_err(
            path,
            format!(
                "{} entries exceed a flat UnixFS directory ({estimate} > {SHARD_SPLIT_THRESHOLD_BYTES} bytes of names and CIDs); the importer would build a HAMT shard, which is not implemented",
                children.len()
            ),
        ));
    }
    let links: Vec<(&Cid, &str, u64)> = children
        .iter()
        .map(|(n, c)| (&c.cid, n.as_str(), c.dag_size))
        .collect();
    let block = pb_node(&links, &[0x08, 0x01]); // Type = Directory
    Ok(Imported {
        cid: Cid::dag_pb(&block),
        dag_size: block.len() as u64 + links.iter().map(|l| l.2).sum::<u64>(),
        file_size: 0,
    })
}

/// dag-pb PBNode in canonical form: every link (field 2) first, then Data (field 1).
fn pb_node(links: &[(&Cid, &str, u64)], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (cid, name, tsize) in links {
        let mut link = Vec::with_capacity(48 + name.len());
        link.push(0x0a); // Hash
        put_varint(&mut link, cid.as_bytes().len() as u64);
        link.extend_from_slice(cid.as_bytes());
        link.push(0x12); // Name, written even when empty
        put_varint(&mut link, name.len() as u64);
        link.extend_from_slice(name.as_bytes());
        link.push(0x18); // Tsize
        put_varint(&mut link, *tsize);
        out.push(0x12);
        put_varint(&mut out, link.len() as u64);
        out.extend_from_slice(&link);
    }
    out.push(0x0a);
    put_varint(&mut out, data.len() as u64);
    out.extend_from_slice(data);
    out
}

/// Unsigned LEB128 (protobuf varint, multiformats unsigned-varint).
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(b: &[u8]) -> Option<(u64, &[u8])> {
    let mut v = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, &b[i + 1..]));
        }
    }
    None
}

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// RFC 4648 base32, lower case, no padding.
pub fn base32_lower(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = BASE32.iter().position(|&a| a == c)? as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    Some(out)
}
