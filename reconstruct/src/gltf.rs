//! GLB (binary glTF 2.0) export of a [`Reconstruction`]: terrain, one node per tree and per pipe
//! run, each carrying its metrics.
//!
//! Written by hand after the glTF 2.0 specification (Khronos,
//! <https://registry.khronos.org/glTF/specs/2.0/glTF-2.0.html>): a 12-byte header, a JSON chunk
//! padded with spaces and a BIN chunk padded with zeros, both to 4 bytes (§4.4 "GLB File
//! Format Specification"). One buffer holds all vertex data (bufferView target
//! `ARRAY_BUFFER`, stride 12) and all indices (`ELEMENT_ARRAY_BUFFER`); each primitive has `POSITION` and
//! `NORMAL` accessors (FLOAT VEC3, `POSITION` with the `min`/`max` the specification requires,
//! §5.1.1) and `UNSIGNED_INT` indices.
//!
//! **Axes.** glTF is Y-up, right-handed, metres (§3.4); TwinMint is Z-up (x east, y north). The
//! export rotates by −90° about X: `(x, y, z) → (x, z, −y)`, a proper rotation, so handedness
//! and triangle winding are kept; north becomes −Z. Positions are relative to the
//! reconstruction's origin; `asset.extras.twinmint` records the origin, CRS and this mapping,
//! so a consumer can put the model back on the map.
//!
//! **Nodes.** `terrain`, `tree-<id>` (two primitives: bark trunk, foliage crown) and
//! `pipe-<id>`, all children of the one scene; each node's `extras` is the serde JSON of its
//! model struct ([`crate::model::Tree`], [`crate::model::PipeRun`],
//! [`crate::model::TerrainStats`]).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{ReconstructError, Result};
use crate::mesh::{self, PipeMeshOptions, TerrainMeshOptions, TreeMeshOptions, TriMesh};
use crate::model::Reconstruction;

/// GLB magic `glTF`, container version 2, chunk types `JSON` and `BIN\0`.
const MAGIC: u32 = 0x4654_6C67;
const CHUNK_JSON: u32 = 0x4E4F_534A;
const CHUNK_BIN: u32 = 0x004E_4942;
/// glTF enums (§5.1.2, §5.11.1).
const FLOAT: u32 = 5126;
const UNSIGNED_INT: u32 = 5125;
const ARRAY_BUFFER: u32 = 34962;
const ELEMENT_ARRAY_BUFFER: u32 = 34963;
const TRIANGLES: u32 = 4;

/// The axis mapping, as recorded in the file.
pub const AXIS_NOTE: &str = "glTF Y-up: (x, y, z) TwinMint Z-up (x east, y north, z up) -> \
                             (x, z, -y); positions in metres relative to origin";

/// Options of [`build_glb`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GlbOptions {
    pub terrain: TerrainMeshOptions,
    pub trees: TreeMeshOptions,
    pub pipes: PipeMeshOptions,
    /// Leave the terrain out (default false).
    pub skip_terrain: bool,
}

/// Material indices.
const BARK: usize = 0;
const FOLIAGE: usize = 1;
const PIPE: usize = 2;
const TERRAIN: usize = 3;

fn materials() -> Value {
    let mat = |name: &str, rgb: [f64; 3], metallic: f64, roughness: f64| {
        json!({
            "name": name,
            "pbrMetallicRoughness": {
                "baseColorFactor": [rgb[0], rgb[1], rgb[2], 1.0],
                "metallicFactor": metallic,
                "roughnessFactor": roughness,
            },
        })
    };
    json!([
        mat("bark", [0.36, 0.24, 0.14], 0.0, 0.9),
        mat("foliage", [0.18, 0.42, 0.16], 0.0, 0.8),
        mat("pipe", [0.62, 0.63, 0.65], 0.6, 0.4),
        mat("terrain", [0.52, 0.45, 0.33], 0.0, 1.0),
    ])
}

/// Z-up → Y-up.
#[inline]
pub fn y_up(p: [f32; 3]) -> [f32; 3] {
    [p[0], p[2], -p[1]]
}

/// Accumulates the BIN chunk and the JSON arrays that index it.
#[derive(Default)]
struct Builder {
    vertex_bytes: Vec<u8>,
    index_bytes: Vec<u8>,
    accessors: Vec<Value>,
    meshes: Vec<Value>,
    nodes: Vec<Value>,
}

impl Builder {
    /// Add a mesh of `(geometry, material)` primitives (empty ones skipped); returns its index,
    /// `None` when nothing is left.
    fn mesh(&mut self, name: &str, prims: &[(&TriMesh, usize)]) -> Option<usize> {
        let mut primitives = Vec::new();
        for (m, material) in prims {
            if m.is_empty() {
                continue;
            }
            let n = m.positions.len();
            let (mut lo, mut hi) = ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]);
            // Vertex accessors live in bufferView 0, index accessors in bufferView 1.
            let pos_offset = self.vertex_bytes.len();
            for p in &m.positions {
                let q = y_up(*p);
                for k in 0..3 {
                    lo[k] = lo[k].min(q[k]);
                    hi[k] = hi[k].max(q[k]);
                    self.vertex_bytes.extend_from_slice(&q[k].to_le_bytes());
                }
            }
            let nrm_offset = self.vertex_bytes.len();
            for p in &m.normals {
                for v in y_up(*p) {
                    self.vertex_bytes.extend_from_slice(&v.to_le_bytes());
                }
            }
            let idx_offset = self.index_bytes.len();
            for i in &m.indices {
                self.index_bytes.extend_from_slice(&i.to_le_bytes());
            }
            let a = self.accessors.len();
            self.accessors.push(json!({
                "bufferView": 0, "byteOffset": pos_offset, "componentType": FLOAT,
                "count": n, "type": "VEC3", "min": lo, "max": hi,
            }));
            self.accessors.push(json!({
                "bufferView": 0, "byteOffset": nrm_offset, "componentType": FLOAT,
                "count": n, "type": "VEC3",
            }));
            self.accessors.push(json!({
                "bufferView": 1, "byteOffset": idx_offset, "componentType": UNSIGNED_INT,
                "count": m.indices.len(), "type": "SCALAR",
            }));
            primitives.push(json!({
                "attributes": {"POSITION": a, "NORMAL": a + 1},
                "indices": a + 2,
                "material": material,
                "mode": TRIANGLES,
            }));
        }
        if primitives.is_empty() {
            return None;
        }
        self.meshes
            .push(json!({"name": name, "primitives": primitives}));
        Some(self.meshes.len() - 1)
    }

    fn node(&mut self, name: &str, mesh: usize, extras: Value) {
        self.nodes
            .push(json!({"name": name, "mesh": mesh, "extras": extras}));
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v).map_err(|source| ReconstructError::Encode {
        what: "a GLB extras value",
        source,
    })
}

/// Build the GLB of `recon`. `dbh_estimates_cm` supplies trunk diameters for trees without an
/// observed DBH (e.g. the growth model's allometric estimates, by tree id); trees in neither
/// get [`TreeMeshOptions::slenderness`]. No file I/O.
pub fn build_glb(
    recon: &Reconstruction,
    dbh_estimates_cm: &BTreeMap<u32, f64>,
    opts: &GlbOptions,
) -> Result<Vec<u8>> {
    let origin = recon.origin;
    let mut b = Builder::default();
    if !opts.skip_terrain
        && let Some(dtm) = &recon.dtm
    {
        let t = mesh::terrain(dtm, origin, &opts.terrain)?;
        if let Some(m) = b.mesh("terrain", &[(&t, TERRAIN)]) {
            let extras = to_json(&recon.terrain)?;
            b.node("terrain", m, extras);
        }
    }
    for tree in &recon.trees {
        let trunk = mesh::trunk(
            tree,
            dbh_estimates_cm.get(&tree.id).copied(),
            origin,
            &opts.trees,
        );
        let crown = mesh::crown(tree, origin, &opts.trees);
        let name = format!("tree-{}", tree.id);
        if let Some(m) = b.mesh(&name, &[(&trunk, BARK), (&crown, FOLIAGE)]) {
            let mut extras = to_json(tree)?;
            if tree.dbh_cm.is_none() {
                extras["mesh_dbh_cm"] = json!(mesh::trunk_dbh_cm(
                    tree,
                    dbh_estimates_cm.get(&tree.id).copied(),
                    &opts.trees
                ));
            }
            b.node(&name, m, extras);
        }
    }
    for run in &recon.pipes {
        let pm = mesh::pipe_run(run, origin, &opts.pipes);
        let name = format!("pipe-{}", run.id);
        if let Some(m) = b.mesh(&name, &[(&pm, PIPE)]) {
            let extras = to_json(run)?;
            b.node(&name, m, extras);
        }
    }

    let vlen = b.vertex_bytes.len();
    let ilen = b.index_bytes.len();
    let mut bin = std::mem::take(&mut b.vertex_bytes);
    bin.extend_from_slice(&b.index_bytes);
    let total = bin.len();
    if total > u32::MAX as usize - 1024 {
        return Err(ReconstructError::Input {
            step: "glb",
            reason: format!("{total} bytes of geometry exceed the 4 GiB GLB limit"),
        });
    }
    let mut doc = json!({
        "asset": {
            "version": "2.0",
            "generator": concat!("TwinMint reconstruct ", env!("CARGO_PKG_VERSION")),
            "extras": {
                "twinmint": {
                    "schema_version": recon.schema_version,
                    "origin": origin,
                    "crs": recon.crs.label(),
                    "crs_epsg": recon.crs.epsg,
                    "crs_wkt": recon.crs.wkt,
                    "axes": AXIS_NOTE,
                    "units": "metre",
                }
            }
        },
        "scene": 0,
        "scenes": [{"name": "twinmint", "nodes": (0..b.nodes.len()).collect::<Vec<_>>()}],
        "nodes": b.nodes,
        "materials": materials(),
    });
    if !b.meshes.is_empty() {
        doc["meshes"] = Value::Array(b.meshes);
        doc["accessors"] = Value::Array(b.accessors);
        // All vertex attributes are tightly packed FLOAT VEC3; several accessors share the
        // view, so the stride must be explicit (§3.6.2.4).
        let mut views = vec![json!({
            "buffer": 0, "byteOffset": 0, "byteLength": vlen, "byteStride": 12,
            "target": ARRAY_BUFFER,
        })];
        if ilen > 0 {
            views.push(json!({
                "buffer": 0, "byteOffset": vlen, "byteLength": ilen,
                "target": ELEMENT_ARRAY_BUFFER,
            }));
        }
        doc["bufferViews"] = Value::Array(views);
        doc["buffers"] = json!([{"byteLength": total}]);
    }
    let mut json_bytes = serde_json::to_vec(&doc).map_err(|source| ReconstructError::Encode {
        what: "the GLB's JSON chunk",
        source,
    })?;
    while json_bytes.len() % 4 != 0 {
        json_bytes.push(b' ');
    }
    while bin.len() % 4 != 0 {
        bin.push(0);
    }
    let has_bin = total > 0;
    let length = 12 + 8 + json_bytes.len() + if has_bin { 8 + bin.len() } else { 0 };
    let mut out = Vec::with_capacity(length);
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(length as u32).to_le_bytes());
    out.extend_from_slice(&(json_bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(&CHUNK_JSON.to_le_bytes());
    out.extend_from_slice(&json_bytes);
    if has_bin {
        out.extend_from_slice(&(bin.len() as u32).to_le_bytes());
        out.extend_from_slice(&CHUNK_BIN.to_le_bytes());
        out.extend_from_slice(&bin);
    }
    Ok(out)
}

/// Build the GLB of `recon` and write it to `path` atomically (temporary file + rename).
pub fn write_glb(
    path: &Path,
    recon: &Reconstruction,
    dbh_estimates_cm: &BTreeMap<u32, f64>,
    opts: &GlbOptions,
) -> Result<()> {
    let bytes = build_glb(recon, dbh_estimates_cm, opts)?;
    capture::atomic::write_bytes(path, &bytes).map_err(|e| ReconstructError::write(path, e))
}

/// The two chunks of a GLB.
#[derive(Clone, Debug, PartialEq)]
pub struct GlbParts {
    pub json: Value,
    /// BIN chunk data (with its padding), empty when absent.
    pub bin: Vec<u8>,
}

/// Split a GLB into its JSON document and BIN chunk, checking the container: magic, version 2,
/// total length, chunk order, types and 4-byte alignment (§4.4).
pub fn read_glb(bytes: &[u8]) -> Result<GlbParts> {
    let bad = |reason: String| ReconstructError::Input {
        step: "glb",
        reason,
    };
    let u32_at = |at: usize| -> Result<u32> {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
            .ok_or_else(|| bad(format!("truncated at byte {at}")))
    };
    if u32_at(0)? != MAGIC {
        return Err(bad("not a GLB (magic)".into()));
    }
    if u32_at(4)? != 2 {
        return Err(bad(format!("container version {}", u32_at(4)?)));
    }
    let length = u32_at(8)? as usize;
    if length != bytes.len() || !length.is_multiple_of(4) {
        return Err(bad(format!(
            "header length {length}, file {} bytes",
            bytes.len()
        )));
    }
    let jlen = u32_at(12)? as usize;
    if u32_at(16)? != CHUNK_JSON || !jlen.is_multiple_of(4) || 20 + jlen > length {
        return Err(bad("first chunk must be JSON, 4-byte aligned".into()));
    }
    let json: Value = serde_json::from_slice(&bytes[20..20 + jlen])
        .map_err(|e| bad(format!("JSON chunk: {e}")))?;
    let mut bin = Vec::new();
    let at = 20 + jlen;
    if at < length {
        let blen = u32_at(at)? as usize;
        if u32_at(at + 4)? != CHUNK_BIN || !blen.is_multiple_of(4) || at + 8 + blen != length {
            return Err(bad(
                "second chunk must be BIN, 4-byte aligned, ending the file".into(),
            ));
        }
        bin = bytes[at + 8..at + 8 + blen].to_vec();
    }
    Ok(GlbParts { json, bin })
}
