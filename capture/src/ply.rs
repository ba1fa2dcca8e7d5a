//! PLY (Stanford polygon format) in ASCII and binary (little/big endian): vertices with colour,
//! normals, intensity and any other scalar properties (kept as extra columns), faces as a mesh.
//! Reading and writing are streaming and allocation-bounded.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use crate::cloud::{ExtraColumn, ExtraType, Mesh, PointCloud};
use crate::error::{CaptureError, Result};
use crate::progress::{CancelToken, Progress, ProgressEvent};
use crate::provenance::Source;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Encoding {
    Ascii,
    Le,
    Be,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Scalar {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    F32,
    F64,
}

impl Scalar {
    fn parse(s: &str) -> Option<Scalar> {
        Some(match s {
            "char" | "int8" => Scalar::I8,
            "uchar" | "uint8" => Scalar::U8,
            "short" | "int16" => Scalar::I16,
            "ushort" | "uint16" => Scalar::U16,
            "int" | "int32" => Scalar::I32,
            "uint" | "uint32" => Scalar::U32,
            "float" | "float32" => Scalar::F32,
            "double" | "float64" => Scalar::F64,
            _ => return None,
        })
    }
    fn size(&self) -> usize {
        match self {
            Scalar::I8 | Scalar::U8 => 1,
            Scalar::I16 | Scalar::U16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::F64 => 8,
        }
    }
    fn extra_type(&self) -> ExtraType {
        match self {
            Scalar::I8 => ExtraType::I8,
            Scalar::U8 => ExtraType::U8,
            Scalar::I16 => ExtraType::I16,
            Scalar::U16 => ExtraType::U16,
            Scalar::I32 => ExtraType::I32,
            Scalar::U32 => ExtraType::U32,
            Scalar::F32 => ExtraType::F32,
            Scalar::F64 => ExtraType::F64,
        }
    }
    fn decode(&self, b: &[u8], enc: Encoding) -> f64 {
        macro_rules! num {
            ($t:ty) => {{
                let a = b[..std::mem::size_of::<$t>()].try_into().unwrap();
                (if enc == Encoding::Be {
                    <$t>::from_be_bytes(a)
                } else {
                    <$t>::from_le_bytes(a)
                }) as f64
            }};
        }
        match self {
            Scalar::I8 => b[0] as i8 as f64,
            Scalar::U8 => b[0] as f64,
            Scalar::I16 => num!(i16),
            Scalar::U16 => num!(u16),
            Scalar::I32 => num!(i32),
            Scalar::U32 => num!(u32),
            Scalar::F32 => num!(f32),
            Scalar::F64 => num!(f64),
        }
    }
    /// Little-endian bytes of `v` in this type, for extra columns.
    fn le_bytes(&self, v: f64) -> Vec<u8> {
        match self {
            Scalar::I8 => vec![v as i8 as u8],
            Scalar::U8 => vec![v as u8],
            Scalar::I16 => (v as i16).to_le_bytes().to_vec(),
            Scalar::U16 => (v as u16).to_le_bytes().to_vec(),
            Scalar::I32 => (v as i32).to_le_bytes().to_vec(),
            Scalar::U32 => (v as u32).to_le_bytes().to_vec(),
            Scalar::F32 => (v as f32).to_le_bytes().to_vec(),
            Scalar::F64 => v.to_le_bytes().to_vec(),
        }
    }
}

#[derive(Clone, Debug)]
struct Property {
    name: String,
    scalar: Scalar,
    /// `Some(count type)` for list properties.
    list: Option<Scalar>,
}

#[derive(Clone, Debug)]
struct Element {
    name: String,
    count: u64,
    props: Vec<Property>,
}

struct Header {
    encoding: Encoding,
    elements: Vec<Element>,
    comments: Vec<String>,
    /// Bytes up to and including the `end_header` line.
    header_bytes: u64,
}

/// The header's element counts must fit the bytes after it: each binary record takes at least
/// its scalars and list counts, each ASCII record at least one character per value plus a line
/// break. A header that promises more is refused before any record is read (the fix for
/// "ends inside element" after minutes of reading, and for loops over 2⁶⁴ empty records).
fn check_counts(path: &Path, h: &Header, file_size: u64) -> Result<()> {
    let body = file_size.saturating_sub(h.header_bytes);
    let mut need = 0u64;
    for el in &h.elements {
        if el.count > 0 && el.props.is_empty() {
            return Err(bad(
                path,
                format!(
                    "element {} has {} records but no properties",
                    el.name, el.count
                ),
            ));
        }
        let per: u64 = match h.encoding {
            Encoding::Ascii => 2 * el.props.len() as u64,
            _ => el
                .props
                .iter()
                .map(|p| p.list.unwrap_or(p.scalar).size() as u64)
                .sum(),
        };
        need = need.saturating_add(el.count.saturating_mul(per));
        if need > body.saturating_add(1) {
            return Err(bad(
                path,
                format!(
                    "header declares {} {} records (at least {need} bytes with those before) but the file holds {body} bytes after the header",
                    el.count, el.name
                ),
            ));
        }
    }
    Ok(())
}

fn bad(path: &Path, reason: impl Into<String>) -> CaptureError {
    CaptureError::invalid(path, "PLY", reason)
}

fn read_header(path: &Path, r: &mut impl BufRead) -> Result<Header> {
    let mut line = String::new();
    let mut first = true;
    let mut encoding = None;
    let mut elements: Vec<Element> = Vec::new();
    let mut comments = Vec::new();
    let mut header_lines = 0u64;
    let mut header_bytes = 0u64;
    loop {
        header_lines += 1;
        let n = crate::text::read_line_capped(r, &mut line, path, header_lines)?;
        if n == 0 {
            return Err(bad(path, "header has no end_header line"));
        }
        header_bytes += n as u64;
        let t = line.trim();
        if first {
            if t != "ply" {
                return Err(bad(path, "missing 'ply' magic"));
            }
            first = false;
            continue;
        }
        let mut w = t.split_whitespace();
        match w.next() {
            Some("format") => {
                encoding = Some(match w.next() {
                    Some("ascii") => Encoding::Ascii,
                    Some("binary_little_endian") => Encoding::Le,
                    Some("binary_big_endian") => Encoding::Be,
                    other => return Err(bad(path, format!("unknown format {other:?}"))),
                })
            }
            Some("comment") | Some("obj_info") => {
                comments.push(t.split_once(' ').map_or("", |x| x.1).to_string())
            }
            Some("element") => {
                let name = w.next().ok_or_else(|| bad(path, "element without name"))?;
                let count = w
                    .next()
                    .and_then(|c| c.parse().ok())
                    .ok_or_else(|| bad(path, format!("element {name} has no valid count")))?;
                elements.push(Element {
                    name: name.to_string(),
                    count,
                    props: Vec::new(),
                });
            }
            Some("property") => {
                let el = elements
                    .last_mut()
                    .ok_or_else(|| bad(path, "property before any element"))?;
                let a = w.next().unwrap_or("");
                let prop = if a == "list" {
                    let ct = w.next().and_then(Scalar::parse);
                    let it = w.next().and_then(Scalar::parse);
                    let name = w.next();
                    match (ct, it, name) {
                        (Some(ct), Some(it), Some(n)) => Property {
                            name: n.to_string(),
                            scalar: it,
                            list: Some(ct),
                        },
                        _ => return Err(bad(path, format!("malformed list property: {t}"))),
                    }
                } else {
                    let s = Scalar::parse(a)
                        .ok_or_else(|| bad(path, format!("unknown property type {a:?}")))?;
                    let n = w.next().ok_or_else(|| bad(path, "property without name"))?;
                    Property {
                        name: n.to_string(),
                        scalar: s,
                        list: None,
                    }
                };
                el.props.push(prop);
            }
            Some("end_header") => break,
            Some(other) => return Err(bad(path, format!("unexpected header line {other:?}"))),
            None => {}
        }
    }
    Ok(Header {
        encoding: encoding.ok_or_else(|| bad(path, "no format line"))?,
        elements,
        comments,
        header_bytes,
    })
}

/// Reads one element record at a time, in any encoding.
struct RecordReader<'a, R: BufRead> {
    r: &'a mut R,
    enc: Encoding,
    line: String,
    line_no: u64,
    buf: [u8; 8],
    path: &'a Path,
}

impl<R: BufRead> RecordReader<'_, R> {
    /// Decode one record of `el` into `out` (scalars as values, lists flattened after their count).
    fn record(
        &mut self,
        el: &Element,
        out: &mut Vec<f64>,
        lists: &mut Vec<Vec<f64>>,
    ) -> Result<()> {
        out.clear();
        lists.clear();
        if self.enc == Encoding::Ascii {
            self.line.clear();
            loop {
                self.line_no += 1;
                let n =
                    crate::text::read_line_capped(self.r, &mut self.line, self.path, self.line_no)?;
                if n == 0 {
                    return Err(bad(
                        self.path,
                        format!("file ends inside element {}", el.name),
                    ));
                }
                if !self.line.trim().is_empty() {
                    break;
                }
                self.line.clear();
            }
            let mut toks = self.line.split_whitespace();
            let line_no = self.line_no;
            let path = self.path;
            let mut next = || -> Result<f64> {
                toks.next()
                    .and_then(|t| t.parse::<f64>().ok())
                    .ok_or_else(|| CaptureError::Parse {
                        path: path.into(),
                        line: line_no,
                        reason: format!("too few or non-numeric values for element {}", el.name),
                    })
            };
            for p in &el.props {
                if p.list.is_some() {
                    let n = next()? as usize;
                    let mut l = Vec::with_capacity(n.min(64));
                    for _ in 0..n {
                        l.push(next()?);
                    }
                    lists.push(l);
                } else {
                    out.push(next()?);
                }
            }
            return Ok(());
        }
        for p in &el.props {
            if let Some(ct) = p.list {
                let n = self.scalar(ct)?;
                if !(0.0..=1e6).contains(&n) {
                    return Err(bad(
                        self.path,
                        format!("list length {n} in element {}", el.name),
                    ));
                }
                let mut l = Vec::with_capacity(n as usize);
                for _ in 0..n as usize {
                    l.push(self.scalar(p.scalar)?);
                }
                lists.push(l);
            } else {
                let v = self.scalar(p.scalar)?;
                out.push(v);
            }
        }
        Ok(())
    }

    fn scalar(&mut self, s: Scalar) -> Result<f64> {
        let k = s.size();
        self.r.read_exact(&mut self.buf[..k]).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                bad(
                    self.path,
                    "file ends before the element counts in the header",
                )
            } else {
                CaptureError::io(self.path, e)
            }
        })?;
        Ok(s.decode(&self.buf[..k], self.enc))
    }
}

/// Indices of the well-known vertex properties.
struct VertexMap {
    xyz: [usize; 3],
    rgb: Option<([usize; 3], Scalar)>,
    normals: Option<[usize; 3]>,
    intensity: Option<(usize, Scalar)>,
    extras: Vec<(usize, Scalar)>,
}

fn vertex_map(path: &Path, el: &Element) -> Result<VertexMap> {
    let scalars: Vec<(usize, &Property)> = el
        .props
        .iter()
        .filter(|p| p.list.is_none())
        .enumerate()
        .collect();
    let find = |names: &[&str]| -> Option<usize> {
        scalars
            .iter()
            .find(|(_, p)| names.iter().any(|n| p.name.eq_ignore_ascii_case(n)))
            .map(|(i, _)| *i)
    };
    let x = find(&["x"]).ok_or_else(|| bad(path, "vertex element has no x property"))?;
    let y = find(&["y"]).ok_or_else(|| bad(path, "vertex element has no y property"))?;
    let z = find(&["z"]).ok_or_else(|| bad(path, "vertex element has no z property"))?;
    let rgb = match (
        find(&["red", "r", "diffuse_red"]),
        find(&["green", "g", "diffuse_green"]),
        find(&["blue", "b", "diffuse_blue"]),
    ) {
        (Some(r), Some(g), Some(b)) => Some(([r, g, b], scalars[r].1.scalar)),
        _ => None,
    };
    let normals = match (find(&["nx"]), find(&["ny"]), find(&["nz"])) {
        (Some(a), Some(b), Some(c)) => Some([a, b, c]),
        _ => None,
    };
    let intensity = find(&[
        "intensity",
        "scalar_intensity",
        "reflectance",
        "scalar_reflectance",
    ])
    .map(|i| (i, scalars[i].1.scalar));
    let mut used = vec![x, y, z];
    if let Some((c, _)) = rgb {
        used.extend(c);
    }
    if let Some(n) = normals {
        used.extend(n);
    }
    if let Some((i, _)) = intensity {
        used.push(i);
    }
    if let Some(a) = find(&["alpha", "diffuse_alpha"]) {
        used.push(a);
    }
    let extras = scalars
        .iter()
        .filter(|(i, _)| !used.contains(i))
        .map(|(i, p)| (*i, p.scalar))
        .collect();
    Ok(VertexMap {
        xyz: [x, y, z],
        rgb,
        normals,
        intensity,
        extras,
    })
}

/// Scale a colour channel to LAS's 16 bits.
fn colour16(v: f64, s: Scalar) -> u16 {
    match s {
        Scalar::U8 | Scalar::I8 => (v.clamp(0.0, 255.0) as u16) * 257,
        Scalar::F32 | Scalar::F64 => (v.clamp(0.0, 1.0) * 65535.0).round() as u16,
        _ => v.clamp(0.0, 65535.0) as u16,
    }
}

fn intensity16(v: f64, s: Scalar) -> u16 {
    match s {
        Scalar::U8 | Scalar::I8 => (v.clamp(0.0, 255.0) as u16) * 257,
        Scalar::F32 | Scalar::F64 if (0.0..=1.0).contains(&v) => (v * 65535.0).round() as u16,
        _ => v.clamp(0.0, 65535.0).round() as u16,
    }
}

/// Stream a PLY file. Vertex chunks are emitted as they are read, unless the file has faces, in
/// which case the vertices are kept together so the mesh indexes them directly.
pub fn read_chunks(
    path: &Path,
    chunk_points: usize,
    progress: &mut dyn Progress,
    cancel: &CancelToken,
    sink: &mut dyn FnMut(PointCloud) -> Result<()>,
) -> Result<(Source, Vec<String>)> {
    let f = File::open(path).map_err(|e| CaptureError::io(path, e))?;
    let size = f.metadata().map_err(|e| CaptureError::io(path, e))?.len();
    let mut r = BufReader::with_capacity(1 << 20, f);
    let header = read_header(path, &mut r)?;
    check_counts(path, &header, size)?;
    let vi = header
        .elements
        .iter()
        .position(|e| e.name == "vertex")
        .ok_or_else(|| bad(path, "no vertex element"))?;
    let has_faces = header
        .elements
        .iter()
        .any(|e| e.name == "face" && e.count > 0);
    let vmap = vertex_map(path, &header.elements[vi])?;
    let vertex_props: Vec<&Property> = header.elements[vi]
        .props
        .iter()
        .filter(|p| p.list.is_none())
        .collect();
    let total = header.elements[vi].count;
    let mut rr = RecordReader {
        r: &mut r,
        enc: header.encoding,
        line: String::new(),
        line_no: 0,
        buf: [0; 8],
        path,
    };
    let mut vals = Vec::new();
    let mut lists = Vec::new();
    let mut origin: Option<[f64; 3]> = None;
    let mut mesh_cloud: Option<PointCloud> = None;
    let mut triangles = Vec::new();
    let mut warnings = Vec::new();
    let mut done = 0u64;
    for el in &header.elements {
        if el.name == "vertex" {
            let mut chunk = Vec::new();
            // Scalar values of the chunk's vertices, flat (stride = scalar property count).
            let mut rows: Vec<f64> = Vec::new();
            for k in 0..el.count {
                rr.record(el, &mut vals, &mut lists)?;
                let p = [vals[vmap.xyz[0]], vals[vmap.xyz[1]], vals[vmap.xyz[2]]];
                if !p.iter().all(|v| v.is_finite()) {
                    return Err(bad(path, format!("vertex {k} has a non-finite coordinate")));
                }
                chunk.push(p);
                rows.extend_from_slice(&vals);
                let last = k + 1 == el.count;
                if (!has_faces && chunk.len() >= chunk_points) || last {
                    cancel.check()?;
                    let o = *origin.get_or_insert_with(|| chunk[0].map(|v| v.round()));
                    let c = build_chunk(o, &chunk, &rows, &vmap, &vertex_props);
                    done += chunk.len() as u64;
                    chunk.clear();
                    rows.clear();
                    if has_faces {
                        mesh_cloud = Some(c);
                    } else {
                        sink(c)?;
                    }
                    progress.report(ProgressEvent {
                        points: done,
                        total_points: Some(total),
                        bytes: 0,
                        total_bytes: Some(size),
                    });
                }
            }
        } else if el.name == "face" {
            let li = el
                .props
                .iter()
                .filter(|p| p.list.is_some())
                .position(|p| p.name == "vertex_indices" || p.name == "vertex_index");
            for _ in 0..el.count {
                rr.record(el, &mut vals, &mut lists)?;
                if let Some(li) = li {
                    let f = &lists[li];
                    for t in 1..f.len().saturating_sub(1) {
                        let tri = [f[0], f[t], f[t + 1]];
                        if tri.iter().any(|&i| i < 0.0 || i >= total as f64) {
                            return Err(bad(
                                path,
                                format!("face index {tri:?} beyond {total} vertices"),
                            ));
                        }
                        triangles.push(tri.map(|i| i as u32));
                    }
                }
            }
        } else {
            for _ in 0..el.count {
                rr.record(el, &mut vals, &mut lists)?;
            }
        }
    }
    if let Some(mut c) = mesh_cloud {
        if !triangles.is_empty() {
            c.mesh = Some(Mesh { triangles });
        }
        sink(c)?;
    } else if has_faces && total == 0 {
        warnings.push(format!("{}: faces but no vertices", path.display()));
    }
    let mut src = Source::new(&path.display().to_string(), "PLY");
    src.format_version = Some(
        match header.encoding {
            Encoding::Ascii => "1.0 ascii",
            Encoding::Le => "1.0 binary_little_endian",
            Encoding::Be => "1.0 binary_big_endian",
        }
        .into(),
    );
    src.point_count = total;
    let comments = header.comments.join("; ");
    src.generating_software = (!comments.is_empty()).then_some(comments);
    Ok((src, warnings))
}

fn build_chunk(
    o: [f64; 3],
    xyz: &[[f64; 3]],
    flat: &[f64],
    m: &VertexMap,
    props: &[&Property],
) -> PointCloud {
    let stride = props.len();
    let rows: Vec<&[f64]> = if stride == 0 {
        Vec::new()
    } else {
        flat.chunks_exact(stride).collect()
    };
    let mut c = PointCloud::new(o);
    c.positions = xyz
        .iter()
        .map(|p| {
            [
                (p[0] - o[0]) as f32,
                (p[1] - o[1]) as f32,
                (p[2] - o[2]) as f32,
            ]
        })
        .collect();
    if let Some((idx, s)) = m.rgb {
        c.rgb = Some(
            rows.iter()
                .map(|r| idx.map(|i| colour16(r[i], s)))
                .collect(),
        );
    }
    if let Some(idx) = m.normals {
        c.normals = Some(rows.iter().map(|r| idx.map(|i| r[i] as f32)).collect());
    }
    if let Some((i, s)) = m.intensity {
        c.intensity = Some(rows.iter().map(|r| intensity16(r[i], s)).collect());
    }
    for &(i, s) in &m.extras {
        let name = props[i].name.trim_start_matches("scalar_");
        let mut col = ExtraColumn::new(name, s.extra_type());
        col.data = rows.iter().flat_map(|r| s.le_bytes(r[i])).collect();
        c.extra.push(col);
    }
    c
}

/// Write `cloud` as binary little-endian PLY (double coordinates, 8-bit colour, float normals,
/// extra columns in their own types, faces when the cloud carries a mesh), atomically.
pub fn write(cloud: &PointCloud, path: &Path, comment: &str) -> Result<()> {
    crate::atomic::write_with(path, |w| write_to(cloud, w, comment))
}

fn write_to(c: &PointCloud, w: &mut impl Write, comment: &str) -> std::io::Result<()> {
    let mut h = String::from("ply\nformat binary_little_endian 1.0\n");
    for line in comment.lines() {
        h += &format!("comment {line}\n");
    }
    h += &format!("element vertex {}\n", c.len());
    h += "property double x\nproperty double y\nproperty double z\n";
    if c.rgb.is_some() {
        h += "property uchar red\nproperty uchar green\nproperty uchar blue\n";
    }
    if c.normals.is_some() {
        h += "property float nx\nproperty float ny\nproperty float nz\n";
    }
    if c.intensity.is_some() {
        h += "property ushort intensity\n";
    }
    let mut extra_scalars = Vec::new();
    for col in &c.extra {
        let s = match col.data_type {
            ExtraType::U8 => "uchar",
            ExtraType::I8 => "char",
            ExtraType::U16 => "ushort",
            ExtraType::I16 => "short",
            ExtraType::U32 => "uint",
            ExtraType::I32 => "int",
            ExtraType::F32 => "float",
            ExtraType::F64 | ExtraType::U64 | ExtraType::I64 => "double",
            ExtraType::Undocumented(_) => continue,
        };
        h += &format!("property {s} {}\n", col.name);
        extra_scalars.push(col);
    }
    let tris = c.mesh.as_ref().map(|m| &m.triangles[..]).unwrap_or(&[]);
    if !tris.is_empty() {
        h += &format!(
            "element face {}\nproperty list uchar int vertex_indices\n",
            tris.len()
        );
    }
    h += "end_header\n";
    w.write_all(h.as_bytes())?;
    for i in 0..c.len() {
        for v in c.absolute(i) {
            w.write_all(&v.to_le_bytes())?;
        }
        if let Some(rgb) = &c.rgb {
            w.write_all(&rgb[i].map(|v| (v >> 8) as u8))?;
        }
        if let Some(n) = &c.normals {
            for v in n[i] {
                w.write_all(&v.to_le_bytes())?;
            }
        }
        if let Some(v) = &c.intensity {
            w.write_all(&v[i].to_le_bytes())?;
        }
        for col in &extra_scalars {
            match col.data_type {
                ExtraType::F64 | ExtraType::U64 | ExtraType::I64 => {
                    w.write_all(&col.raw(i).to_le_bytes())?
                }
                _ => {
                    let wd = col.data_type.width();
                    w.write_all(&col.data[i * wd..(i + 1) * wd])?
                }
            }
        }
    }
    for t in tris {
        w.write_all(&[3u8])?;
        for v in t {
            w.write_all(&(*v as i32).to_le_bytes())?;
        }
    }
    Ok(())
}
