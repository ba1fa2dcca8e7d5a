//! The *asset view* of `reconstruction.json`: exactly the part the reconstruction hash covers.
//!
//! `reconstruction.json` holds two kinds of facts. What describes the asset — terrain, raster
//! extents, trees, pipes, the options and the tool version that produced them — must be in the
//! fingerprint: change one and the collateral is a different model. What describes one *run* —
//! wall-clock timings, the device label, the host, the thread count — differs every time the
//! same scan is reconstructed, and would make the fingerprint irreproducible. So the hash is
//! taken over a view of the file:
//!
//! 1. the top-level `run` object is removed (and schema 1's top-level `device` and `timings`,
//!    which held the same facts), as is `options.device` (`auto|gpu|cpu`: where to compute, not
//!    what was computed);
//! 2. every number that is not an integer is rounded to the nearest multiple of
//!    [`QUANTUM`] (0.001: a millimetre for lengths in metres), halves away from zero — Rust's
//!    `(x * 1000.0).round() / 1000.0` in IEEE-754 doubles. The GPU kernels and their CPU twins
//!    agree to float rounding, not bit for bit (a fused multiply-add on one side is enough), and
//!    that must not change the fingerprint; integers (counts, ids, sizes) are kept exactly;
//! 3. the view is cut into *asset leaves* ([`asset_leaves`]): one leaf for everything but the
//!    trees, one per tree (in file order), and — when the project has a simulation — one for the
//!    year-0 inventory totals (the stand's carbon at the survey, [`inventory_view`]); each leaf is
//!    canonicalised with RFC 8785 ([`super::jcs`]);
//! 4. the reconstruction hash is the RFC 6962 Merkle root of those leaves ([`super::merkle`]).
//!
//! Why a tree and not one hash of the whole view (fingerprint schema 2): a Merkle root lets an
//! owner disclose *one* tree, or the stand's carbon total, with an inclusion proof against the
//! on-chain fingerprint and reveal nothing else (`twinmint prove`, `twinmint verify-proof`;
//! [`crate::disclosure`]) — the same construction the cloud's chunk tree already uses.
//!
//! Every verifier must compute the same view, so this module is the only place it is defined:
//! [`super::compute`], `package::project` and `verify` all call [`reconstruction_hash`].

use serde_json::{Map, Value};

use super::jcs;
use super::merkle::MerkleTree;
use crate::error::Result;

/// Steps per unit of non-integer numbers in the asset view: 1000, a millimetre for metres.
pub const STEPS_PER_UNIT: f64 = 1000.0;

/// Rounding step of non-integer numbers in the asset view (0.001).
pub const QUANTUM: f64 = 1.0 / STEPS_PER_UNIT;

/// Top-level keys of `reconstruction.json` that describe the run, not the asset: `run`, and
/// the schema 1 fields it replaced.
pub const RUN_KEYS: [&str; 3] = ["run", "device", "timings"];

/// Keys of `reconstruction.json`'s `options` object left out of the view.
pub const OPTION_RUN_KEYS: [&str; 1] = ["device"];

/// `x` rounded to the nearest multiple of [`QUANTUM`], halves away from zero.
pub fn quantise(x: f64) -> f64 {
    // Divided by the exact 1000.0, not multiplied by the inexact 0.001, so the result is the
    // double nearest to steps/1000 and prints as at most three decimals.
    let q = (x * STEPS_PER_UNIT).round() / STEPS_PER_UNIT;
    // −0 and +0 are one number to RFC 8785; keep one spelling in the value too.
    if q == 0.0 { 0.0 } else { q }
}

/// The asset view of a `reconstruction.json` value (see the module docs). A value that is not
/// a JSON object is only quantised.
pub fn reconstruction_view(reconstruction: &Value) -> Value {
    let mut v = quantised(reconstruction);
    if let Value::Object(top) = &mut v {
        for k in RUN_KEYS {
            top.remove(k);
        }
        if let Some(Value::Object(options)) = top.get_mut("options") {
            for k in OPTION_RUN_KEYS {
                options.remove(k);
            }
        }
    }
    v
}

/// `leaf` field of the leaf holding everything in the view but the trees.
pub const LEAF_RECONSTRUCTION: &str = "reconstruction";
/// `leaf` field of a tree's leaf.
pub const LEAF_TREE: &str = "tree";
/// `leaf` field of the year-0 inventory leaf.
pub const LEAF_INVENTORY: &str = "inventory";

/// The asset leaves, in tree order, as RFC 8785 text (see the module docs):
/// `{"leaf":"reconstruction","view":…}` (the view without `trees`), then
/// `{"index":i,"leaf":"tree","tree":…}` for each tree, then, with `inventory`,
/// `{"inventory":…,"leaf":"inventory"}` (already an [`inventory_view`]).
pub fn asset_leaves(reconstruction: &Value, inventory: Option<&Value>) -> Result<Vec<String>> {
    let mut view = reconstruction_view(reconstruction);
    let trees = match view.as_object_mut().map(|o| o.remove("trees")) {
        Some(Some(Value::Array(trees))) => trees,
        // Not an array: not trees this tree can split; it stays in the first leaf.
        Some(Some(other)) => {
            if let Some(o) = view.as_object_mut() {
                o.insert("trees".into(), other);
            }
            Vec::new()
        }
        _ => Vec::new(),
    };
    let mut leaves = Vec::with_capacity(trees.len() + 2);
    leaves.push(jcs::canonicalize(&serde_json::json!({
        "leaf": LEAF_RECONSTRUCTION,
        "view": view,
    }))?);
    for (i, tree) in trees.into_iter().enumerate() {
        leaves.push(jcs::canonicalize(&serde_json::json!({
            "index": i,
            "leaf": LEAF_TREE,
            "tree": tree,
        }))?);
    }
    if let Some(inv) = inventory {
        leaves.push(jcs::canonicalize(&serde_json::json!({
            "inventory": quantised(inv),
            "leaf": LEAF_INVENTORY,
        }))?);
    }
    Ok(leaves)
}

/// The Merkle tree over [`asset_leaves`] (for proofs).
pub fn asset_tree(reconstruction: &Value, inventory: Option<&Value>) -> Result<MerkleTree> {
    Ok(MerkleTree::from_leaves(&asset_leaves(
        reconstruction,
        inventory,
    )?))
}

/// The fingerprint's `reconstruction_hash`: the root of [`asset_tree`]. `inventory` is the
/// project's [`inventory_view`] when it has a simulation.
pub fn asset_root(reconstruction: &Value, inventory: Option<&Value>) -> Result<[u8; 32]> {
    Ok(asset_tree(reconstruction, inventory)?.root())
}

/// [`asset_root`] of a reconstruction without a simulation.
pub fn reconstruction_hash(reconstruction: &Value) -> Result<[u8; 32]> {
    asset_root(reconstruction, None)
}

/// The part of `simulation.json` the fingerprint covers: the year-0 inventory's survey year,
/// area, region, root:shoot ratio and stand totals (trees, biomass, carbon, CO2e and their
/// spread) — the stock the token's value starts from. Not the projection (a resurvey replaces
/// it, the oracle revalues it) nor the per-tree records (the trees' own leaves hold their
/// measurements). `None` for a simulation without an inventory (schema 1).
pub fn inventory_view(simulation: &Value) -> Option<Value> {
    let inv = simulation.get("inventory")?.as_object()?;
    let mut out = Map::new();
    for k in ["year", "area_ha", "region", "root_shoot_ratio", "totals"] {
        if let Some(v) = inv.get(k) {
            out.insert(k.to_string(), quantised(v));
        }
    }
    Some(Value::Object(out))
}

/// `v` with every non-integer number quantised.
fn quantised(v: &Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => match n.as_f64().map(quantise) {
            Some(q) => serde_json::Number::from_f64(q).map_or(Value::Null, Value::Number),
            None => v.clone(),
        },
        Value::Array(a) => Value::Array(a.iter().map(quantised).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), quantised(x)))
                .collect::<Map<_, _>>(),
        ),
        _ => v.clone(),
    }
}
