//! Coordinate reference systems as LAS and E57 carry them: an EPSG code, WKT, or both.
//!
//! TwinMint does not ship a projection database; it keeps what the file says, extracts the EPSG
//! code where the WKT names one, and refuses to merge clouds whose CRSs disagree.

use serde::{Deserialize, Serialize};

use crate::error::{CaptureError, Result};

/// A horizontal (and optionally vertical) CRS.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crs {
    /// Horizontal EPSG code (e.g. 32633 for UTM 33N, 4326 for WGS 84 lat/lon).
    pub epsg: Option<u32>,
    /// Vertical EPSG code, when the source declares one.
    pub vertical_epsg: Option<u32>,
    /// The WKT as found in the file (OGC 01-009 or ISO 19162).
    pub wkt: Option<String>,
}

impl Crs {
    pub fn epsg(code: u32) -> Self {
        Crs {
            epsg: Some(code),
            ..Default::default()
        }
    }

    /// A CRS from WKT, with the EPSG code taken from its top-level authority when present.
    pub fn from_wkt(wkt: &str) -> Self {
        let wkt = wkt.trim_matches(char::from(0)).trim().to_string();
        Crs {
            epsg: epsg_from_wkt(&wkt),
            vertical_epsg: None,
            wkt: Some(wkt),
        }
    }

    pub fn is_unknown(&self) -> bool {
        self.epsg.is_none() && self.wkt.is_none()
    }

    /// Whether two CRSs can share one project: equal EPSG codes, or equal WKT when neither has
    /// a code; an unknown CRS is compatible with anything (with a warning at the caller).
    pub fn compatible(&self, other: &Crs) -> bool {
        if self.is_unknown() || other.is_unknown() {
            return true;
        }
        match (self.epsg, other.epsg) {
            (Some(a), Some(b)) => a == b,
            _ => self.wkt == other.wkt,
        }
    }

    /// Whether `epsg` names a geographic (lat/lon) CRS — the EPSG 4000–4999 block.
    pub fn is_geographic(&self) -> bool {
        matches!(self.epsg, Some(4000..=4999))
    }

    /// WGS 84 / UTM of `zone` (1–60) in the northern or southern hemisphere (EPSG 326zz / 327zz).
    pub fn utm(zone: u8, north: bool) -> Self {
        Crs::epsg(if north { 32600 } else { 32700 } + zone as u32)
    }

    /// UTM zone and hemisphere for WGS 84 / UTM codes (326zz north, 327zz south).
    pub fn utm_zone(&self) -> Option<(u8, bool)> {
        match self.epsg? {
            c @ 32601..=32660 => Some(((c - 32600) as u8, true)),
            c @ 32701..=32760 => Some(((c - 32700) as u8, false)),
            _ => None,
        }
    }

    /// Parse a user-supplied CRS: `EPSG:32633`, `epsg:4326`, a bare code, or WKT text.
    pub fn parse(value: &str) -> Result<Self> {
        let v = value.trim();
        let bad = |reason: &str| CaptureError::UnknownCrs {
            value: value.to_string(),
            reason: reason.to_string(),
        };
        if v.is_empty() {
            return Err(bad("empty"));
        }
        let code = v
            .strip_prefix("EPSG:")
            .or_else(|| v.strip_prefix("epsg:"))
            .unwrap_or(v);
        if code.chars().all(|c| c.is_ascii_digit()) {
            let n: u32 = code.parse().map_err(|_| bad("not a number"))?;
            if !(1024..=32767).contains(&n) && !(100000..=1000000).contains(&n) {
                return Err(bad("EPSG codes lie between 1024 and 32767"));
            }
            return Ok(Crs::epsg(n));
        }
        let upper = v.to_ascii_uppercase();
        const WKT_ROOTS: [&str; 10] = [
            "PROJCS[",
            "GEOGCS[",
            "COMPD_CS[",
            "GEOCCS[",
            "VERT_CS[",
            "PROJCRS[",
            "GEOGCRS[",
            "COMPOUNDCRS[",
            "VERTCRS[",
            "BOUNDCRS[",
        ];
        if WKT_ROOTS.iter().any(|r| upper.starts_with(r)) {
            if v.matches('[').count() != v.matches(']').count() {
                return Err(bad("unbalanced brackets in WKT"));
            }
            return Ok(Crs::from_wkt(v));
        }
        Err(bad("expected EPSG:<code> or WKT"))
    }

    /// Short label for tables and messages.
    pub fn label(&self) -> String {
        match (self.epsg, &self.wkt) {
            (Some(c), _) => format!("EPSG:{c}"),
            (None, Some(w)) => {
                let name = w.split('"').nth(1).unwrap_or("WKT");
                format!("WKT \"{name}\"")
            }
            (None, None) => "unknown".to_string(),
        }
    }
}

/// The EPSG code of the WKT's top-level object: in WKT1 the last `AUTHORITY["EPSG","n"]`, in WKT2
/// the last `ID["EPSG",n]` — both close the outermost bracket.
pub fn epsg_from_wkt(wkt: &str) -> Option<u32> {
    let upper = wkt.to_ascii_uppercase();
    let pos = upper
        .rfind("AUTHORITY[\"EPSG\"")
        .or_else(|| upper.rfind("ID[\"EPSG\""))?;
    // Only accept it when it sits at nesting depth 1 (directly inside the root object).
    let depth = upper[..pos].matches('[').count() - upper[..pos].matches(']').count();
    if depth != 1 {
        return None;
    }
    let rest = &wkt[pos..];
    let after = rest.split(',').nth(1)?;
    let digits: String = after
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// GeoTIFF GeoKeyDirectory (LAS VLR `LASF_Projection`/34735) for an EPSG code, for files that
/// cannot carry WKT we do not have (TwinMint ships no EPSG database).
pub fn geokey_directory(crs: &Crs) -> Option<Vec<u8>> {
    let code = crs.epsg? as u16;
    let geographic = crs.is_geographic();
    let mut keys: Vec<[u16; 4]> = vec![
        [1024, 0, 1, if geographic { 2 } else { 1 }],
        [1025, 0, 1, 1], // RasterPixelIsArea
    ];
    keys.push(if geographic {
        [2048, 0, 1, code]
    } else {
        [3072, 0, 1, code]
    });
    if let Some(v) = crs.vertical_epsg {
        keys.push([4096, 0, 1, v as u16]);
    }
    let mut out = Vec::new();
    for w in [1u16, 1, 0, keys.len() as u16] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    for k in keys {
        for w in k {
            out.extend_from_slice(&w.to_le_bytes());
        }
    }
    Some(out)
}
