//! Delimited text point clouds: XYZ, CSV, PTS, TXT, ASC. The delimiter (comma, semicolon, tab,
//! whitespace) and an optional header row are sniffed; without a header the column meaning
//! follows CloudCompare's conventions by column count (3 xyz, 4 xyz+i, 6 xyz+rgb, 7 PTS
//! xyz+i+rgb). Any other named numeric column becomes an extra column.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use crate::cloud::{ExtraColumn, ExtraType, PointCloud};
use crate::error::{CaptureError, Result};
use crate::progress::{CancelToken, Progress, ProgressEvent};
use crate::provenance::Source;

/// Longest line the text readers (XYZ/CSV, PLY headers and ASCII bodies, OBJ) accept: 1 MiB.
/// A real point row is under 200 bytes; a longer line is a damaged or binary file, and reading it
/// whole would let one "line" take all memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Most columns a delimited text row may have: 64. Rows are buffered per chunk as
/// `chunk × columns` numbers, so an unbounded column count is an unbounded allocation.
pub const MAX_COLUMNS: usize = 64;

/// Read one line (with its `\n`) into `buf`, replacing its content, refusing lines over
/// [`MAX_LINE_BYTES`] and non-UTF-8 text. `line_no` is the number of the line being read, for
/// the message. Returns the bytes read (0 at the end).
pub(crate) fn read_line_capped(
    r: &mut impl BufRead,
    buf: &mut String,
    path: &Path,
    line_no: u64,
) -> Result<usize> {
    let mut raw = std::mem::take(buf).into_bytes();
    raw.clear();
    let n = r
        .by_ref()
        .take(MAX_LINE_BYTES as u64 + 1)
        .read_until(b'\n', &mut raw)
        .map_err(|e| CaptureError::io(path, e))?;
    if raw.len() > MAX_LINE_BYTES {
        return Err(CaptureError::Parse {
            path: path.into(),
            line: line_no,
            reason: format!(
                "line is longer than {} MiB, the limit for text scans",
                MAX_LINE_BYTES >> 20
            ),
        });
    }
    *buf = String::from_utf8(raw).map_err(|_| CaptureError::Parse {
        path: path.into(),
        line: line_no,
        reason: "not UTF-8 text".into(),
    })?;
    Ok(n)
}

fn check_columns(path: &Path, line: u64, n: usize) -> Result<()> {
    if n > MAX_COLUMNS {
        return Err(CaptureError::Parse {
            path: path.into(),
            line,
            reason: format!("{n} columns; at most {MAX_COLUMNS} are read"),
        });
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Delim {
    Comma,
    Semicolon,
    Tab,
    Space,
}

impl Delim {
    fn split<'a>(&self, line: &'a str) -> Vec<&'a str> {
        match self {
            Delim::Comma => line.split(',').map(str::trim).collect(),
            Delim::Semicolon => line.split(';').map(str::trim).collect(),
            Delim::Tab => line.split('\t').map(str::trim).collect(),
            Delim::Space => line.split_whitespace().collect(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    X,
    Y,
    Z,
    Intensity,
    R,
    G,
    B,
    Nx,
    Ny,
    Nz,
    Class,
    Extra,
}

fn role_of(name: &str) -> Role {
    let n = name
        .trim_start_matches("//")
        .trim_matches('"')
        .trim()
        .to_ascii_lowercase();
    match n.as_str() {
        "x" | "easting" | "e" => Role::X,
        "y" | "northing" | "n" => Role::Y,
        "z" | "elevation" | "height" | "h" => Role::Z,
        "i" | "intensity" | "reflectance" | "scalar_intensity" => Role::Intensity,
        "r" | "red" => Role::R,
        "g" | "green" => Role::G,
        "b" | "blue" => Role::B,
        "nx" => Role::Nx,
        "ny" => Role::Ny,
        "nz" => Role::Nz,
        "class" | "classification" => Role::Class,
        _ => Role::Extra,
    }
}

fn is_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty()
        || (t.starts_with('#'))
        || (t.starts_with("//") && !t[2..].trim_start().starts_with(['X', 'x']))
}

fn sniff_delim(line: &str) -> Delim {
    for d in [Delim::Comma, Delim::Semicolon, Delim::Tab] {
        if d.split(line).len() >= 3 {
            return d;
        }
    }
    Delim::Space
}

struct Schema {
    delim: Delim,
    roles: Vec<Role>,
    names: Vec<String>,
    /// Expected points (PTS count line).
    declared: Option<u64>,
}

/// Intensity and colour ranges are decided once per file, from the first chunk.
#[derive(Clone, Copy)]
struct Ranges {
    intensity_float: bool,
    intensity_pts: bool,
    colour_float: bool,
    colour_16: bool,
}

/// Stream a delimited text file.
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
    let mut line = String::new();
    let mut line_no = 0u64;
    let mut bytes = 0u64;
    let mut schema: Option<Schema> = None;
    let mut declared = None;
    let mut pending_first: Option<(String, u64)> = None;
    // Find the header / first data line.
    while schema.is_none() {
        let n = read_line_capped(&mut r, &mut line, path, line_no + 1)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        line_no += 1;
        if is_comment(&line) {
            continue;
        }
        let t = line.trim().trim_start_matches("//").trim();
        let toks: Vec<&str> = t.split_whitespace().collect();
        if declared.is_none() && toks.len() == 1 && toks[0].parse::<u64>().is_ok() {
            declared = toks[0].parse().ok();
            continue;
        }
        let delim = sniff_delim(t);
        let fields = delim.split(t);
        check_columns(path, line_no, fields.len())?;
        if fields.len() < 3 {
            return Err(CaptureError::Parse {
                path: path.into(),
                line: line_no,
                reason: format!(
                    "expected at least 3 columns (x y z), found {}",
                    fields.len()
                ),
            });
        }
        let numeric = fields.iter().all(|f| f.parse::<f64>().is_ok());
        if numeric {
            let roles = match fields.len() {
                3 => vec![Role::X, Role::Y, Role::Z],
                4 => vec![Role::X, Role::Y, Role::Z, Role::Intensity],
                6 => vec![Role::X, Role::Y, Role::Z, Role::R, Role::G, Role::B],
                7 => vec![
                    Role::X,
                    Role::Y,
                    Role::Z,
                    Role::Intensity,
                    Role::R,
                    Role::G,
                    Role::B,
                ],
                n => {
                    let mut v = vec![Role::X, Role::Y, Role::Z];
                    v.extend(std::iter::repeat_n(Role::Extra, n - 3));
                    v
                }
            };
            let names = (0..fields.len())
                .map(|i| format!("column_{}", i + 1))
                .collect();
            schema = Some(Schema {
                delim,
                roles,
                names,
                declared,
            });
            pending_first = Some((t.to_string(), line_no));
        } else {
            let names: Vec<String> = fields
                .iter()
                .map(|s| s.trim_matches('"').to_string())
                .collect();
            let roles: Vec<Role> = names.iter().map(|n| role_of(n)).collect();
            for (want, label) in [(Role::X, "x"), (Role::Y, "y"), (Role::Z, "z")] {
                if !roles.contains(&want) {
                    return Err(CaptureError::Parse {
                        path: path.into(),
                        line: line_no,
                        reason: format!("header {names:?} has no {label} column"),
                    });
                }
            }
            schema = Some(Schema {
                delim,
                roles,
                names,
                declared,
            });
        }
    }
    let Some(schema) = schema else {
        return Err(CaptureError::NoPoints { path: path.into() });
    };
    let col = |r: Role| schema.roles.iter().position(|&x| x == r);
    let (ix, iy, iz) = (
        col(Role::X).unwrap(),
        col(Role::Y).unwrap(),
        col(Role::Z).unwrap(),
    );
    let ii = col(Role::Intensity);
    let rgb = match (col(Role::R), col(Role::G), col(Role::B)) {
        (Some(a), Some(b), Some(c)) => Some([a, b, c]),
        _ => None,
    };
    let nrm = match (col(Role::Nx), col(Role::Ny), col(Role::Nz)) {
        (Some(a), Some(b), Some(c)) => Some([a, b, c]),
        _ => None,
    };
    let icls = col(Role::Class);
    let extras: Vec<usize> = (0..schema.roles.len())
        .filter(|&i| schema.roles[i] == Role::Extra)
        .collect();
    let ncols = schema.roles.len();
    let mut origin: Option<[f64; 3]> = None;
    let mut ranges: Option<Ranges> = None;
    let mut rows: Vec<f64> = Vec::with_capacity(chunk_points.min(1 << 16) * ncols);
    let mut lines_in_chunk = 0usize;
    let mut total = 0u64;
    let mut emit = |rows: &mut Vec<f64>, n: usize, ranges: &mut Option<Ranges>| -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let row = |k: usize| &rows[k * ncols..(k + 1) * ncols];
        let rg = *ranges.get_or_insert_with(|| {
            let iv: Vec<f64> = ii
                .map(|i| (0..n).map(|k| row(k)[i]).collect())
                .unwrap_or_default();
            let cv: Vec<f64> = rgb
                .map(|c| (0..n).flat_map(|k| c.map(|i| row(k)[i])).collect())
                .unwrap_or_default();
            Ranges {
                intensity_float: !iv.is_empty()
                    && iv.iter().all(|v| (0.0..=1.0).contains(v))
                    && iv.iter().any(|v| v.fract() != 0.0),
                intensity_pts: iv.iter().any(|v| *v < 0.0),
                colour_float: !cv.is_empty()
                    && cv.iter().all(|v| (0.0..=1.0).contains(v))
                    && cv.iter().any(|v| v.fract() != 0.0),
                colour_16: cv.iter().any(|v| *v > 255.0),
            }
        });
        let o = *origin
            .get_or_insert_with(|| [row(0)[ix].round(), row(0)[iy].round(), row(0)[iz].round()]);
        let mut c = PointCloud::new(o);
        c.positions = (0..n)
            .map(|k| {
                let r = row(k);
                [
                    (r[ix] - o[0]) as f32,
                    (r[iy] - o[1]) as f32,
                    (r[iz] - o[2]) as f32,
                ]
            })
            .collect();
        if let Some(i) = ii {
            c.intensity = Some(
                (0..n)
                    .map(|k| {
                        let v = row(k)[i];
                        if rg.intensity_float {
                            (v * 65535.0).round() as u16
                        } else if rg.intensity_pts {
                            // PTS intensity is −2048…2047.
                            ((v + 2048.0).clamp(0.0, 4095.0) * 16.0) as u16
                        } else {
                            v.clamp(0.0, 65535.0).round() as u16
                        }
                    })
                    .collect(),
            );
        }
        if let Some(cols) = rgb {
            c.rgb = Some(
                (0..n)
                    .map(|k| {
                        cols.map(|i| {
                            let v = row(k)[i];
                            if rg.colour_float {
                                (v.clamp(0.0, 1.0) * 65535.0).round() as u16
                            } else if rg.colour_16 {
                                v.clamp(0.0, 65535.0) as u16
                            } else {
                                (v.clamp(0.0, 255.0) as u16) * 257
                            }
                        })
                    })
                    .collect(),
            );
        }
        if let Some(cols) = nrm {
            c.normals = Some((0..n).map(|k| cols.map(|i| row(k)[i] as f32)).collect());
        }
        if let Some(i) = icls {
            c.classification = Some((0..n).map(|k| row(k)[i].clamp(0.0, 255.0) as u8).collect());
        }
        for &i in &extras {
            let mut e = ExtraColumn::new(&schema.names[i], ExtraType::F64);
            e.data = (0..n).flat_map(|k| row(k)[i].to_le_bytes()).collect();
            c.extra.push(e);
        }
        rows.clear();
        sink(c)
    };
    let parse_line = |t: &str, no: u64, rows: &mut Vec<f64>| -> Result<()> {
        let fields = schema.delim.split(t);
        check_columns(path, no, fields.len())?;
        if fields.len() < ncols {
            return Err(CaptureError::Parse {
                path: path.into(),
                line: no,
                reason: format!("expected {ncols} values, found {}", fields.len()),
            });
        }
        for f in &fields[..ncols] {
            let v: f64 = f.parse().map_err(|_| CaptureError::Parse {
                path: path.into(),
                line: no,
                reason: format!("{f:?} is not a number"),
            })?;
            rows.push(v);
        }
        let base = rows.len() - ncols;
        if ![ix, iy, iz].iter().all(|&i| rows[base + i].is_finite()) {
            return Err(CaptureError::Parse {
                path: path.into(),
                line: no,
                reason: "non-finite coordinate".into(),
            });
        }
        Ok(())
    };
    if let Some((t, no)) = pending_first.take() {
        parse_line(&t, no, &mut rows)?;
        lines_in_chunk = 1;
    }
    loop {
        let n = read_line_capped(&mut r, &mut line, path, line_no + 1)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        line_no += 1;
        if is_comment(&line) {
            continue;
        }
        parse_line(line.trim(), line_no, &mut rows)?;
        lines_in_chunk += 1;
        if lines_in_chunk >= chunk_points {
            cancel.check()?;
            total += lines_in_chunk as u64;
            emit(&mut rows, lines_in_chunk, &mut ranges)?;
            lines_in_chunk = 0;
            progress.report(ProgressEvent {
                points: total,
                total_points: schema.declared,
                bytes,
                total_bytes: Some(size),
            });
        }
    }
    total += lines_in_chunk as u64;
    emit(&mut rows, lines_in_chunk, &mut ranges)?;
    let mut warnings = Vec::new();
    if let Some(d) = schema.declared
        && d != total
    {
        return Err(CaptureError::Truncated {
            path: path.into(),
            expected: d,
            found: total,
        });
    }
    if total == 0 {
        warnings.push(format!("{}: no data rows", path.display()));
    }
    let mut src = Source::new(&path.display().to_string(), "XYZ");
    src.format_version = Some(format!(
        "{:?}-delimited, columns {:?}",
        schema.delim, schema.names
    ));
    src.point_count = total;
    Ok((src, warnings))
}

/// Write `x y z [intensity] [r g b]` text with a header row, millimetre precision, atomically.
pub fn write(cloud: &PointCloud, path: &Path) -> Result<()> {
    crate::atomic::write_with(path, |w| {
        let mut h = String::from("//X Y Z");
        if cloud.intensity.is_some() {
            h += " Intensity";
        }
        if cloud.rgb.is_some() {
            h += " R G B";
        }
        writeln!(w, "{h}")?;
        for i in 0..cloud.len() {
            let p = cloud.absolute(i);
            write!(w, "{:.3} {:.3} {:.3}", p[0], p[1], p[2])?;
            if let Some(v) = &cloud.intensity {
                write!(w, " {}", v[i])?;
            }
            if let Some(c) = &cloud.rgb {
                write!(w, " {} {} {}", c[i][0] >> 8, c[i][1] >> 8, c[i][2] >> 8)?;
            }
            writeln!(w)?;
        }
        Ok(())
    })
}
