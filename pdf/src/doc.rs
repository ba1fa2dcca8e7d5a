//! Pages of vector drawing and text, written as one PDF file.
//!
//! Coordinates are PDF points (1/72 in) from the page's lower-left corner. Content streams and
//! the font are Flate-compressed; objects are numbered in a fixed order, so output is
//! byte-for-byte reproducible.

use std::fmt::Write as _;

/// A4 portrait, points.
pub const A4: (f64, f64) = (595.28, 841.89);

/// Advance width of every Hack glyph, per 1000 units of the font size.
pub const CHAR_WIDTH: f64 = 602.0;

/// Hack's metrics (per 1000 em): ascent, descent, cap height, bounding box.
const ASCENT: i32 = 928;
const DESCENT: i32 = -236;
const CAP_HEIGHT: i32 = 729;
const BBOX: [i32; 4] = [-466, -295, 662, 990];

/// An sRGB colour, components in 0…1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rgb(pub f32, pub f32, pub f32);

impl Rgb {
    pub const BLACK: Rgb = Rgb(0.0, 0.0, 0.0);
    pub const GREY: Rgb = Rgb(0.55, 0.55, 0.55);
    pub const LIGHT: Rgb = Rgb(0.9, 0.9, 0.9);
    pub const GREEN: Rgb = Rgb(0.16, 0.6, 0.3);
    pub const RED: Rgb = Rgb(0.85, 0.2, 0.15);
    pub const BLUE: Rgb = Rgb(0.15, 0.4, 0.8);
    pub const ORANGE: Rgb = Rgb(0.95, 0.55, 0.1);
}

/// Width of `text` set at `size` points.
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * CHAR_WIDTH / 1000.0 * size
}

/// One page's content stream.
#[derive(Clone, Debug, Default)]
pub struct Page {
    ops: String,
}

fn num(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// `text` as a PDF literal string in WinAnsi encoding (characters it lacks become `?`).
pub fn literal(text: &str) -> String {
    let mut out = String::from("(");
    for ch in text.chars() {
        let code: u8 = match ch {
            '(' | ')' | '\\' => {
                out.push('\\');
                ch as u8
            }
            ' '..='~' => ch as u8,
            '\u{a0}'..='\u{ff}' => ch as u32 as u8,
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '→' => {
                out.push_str("->");
                continue;
            }
            '≤' => {
                out.push_str("<=");
                continue;
            }
            '≥' => {
                out.push_str(">=");
                continue;
            }
            _ => b'?',
        };
        if code < 0x80 {
            out.push(code as char);
        } else {
            let _ = write!(out, "\\{code:03o}");
        }
    }
    out.push(')');
    out
}

impl Page {
    pub fn new() -> Page {
        Page::default()
    }

    fn fill(&mut self, c: Rgb) {
        let _ = writeln!(
            self.ops,
            "{} {} {} rg",
            num(c.0 as f64),
            num(c.1 as f64),
            num(c.2 as f64)
        );
    }

    fn stroke(&mut self, c: Rgb, width: f64) {
        let _ = writeln!(
            self.ops,
            "{} {} {} RG {} w",
            num(c.0 as f64),
            num(c.1 as f64),
            num(c.2 as f64),
            num(width)
        );
    }

    /// Text with its baseline starting at (x, y).
    pub fn text(&mut self, x: f64, y: f64, size: f64, color: Rgb, text: &str) {
        self.fill(color);
        let _ = writeln!(
            self.ops,
            "BT /F1 {} Tf {} {} Td {} Tj ET",
            num(size),
            num(x),
            num(y),
            literal(text)
        );
    }

    /// A rectangle, filled and/or stroked.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Option<Rgb>, stroke: Option<Rgb>) {
        self.path(
            &[[x, y], [x + w, y], [x + w, y + h], [x, y + h]],
            true,
            fill,
            stroke,
            0.5,
        );
    }

    /// A straight line.
    pub fn line(&mut self, a: [f64; 2], b: [f64; 2], width: f64, color: Rgb) {
        self.path(&[a, b], false, None, Some(color), width);
    }

    /// A polyline or (closed) polygon.
    pub fn path(
        &mut self,
        pts: &[[f64; 2]],
        closed: bool,
        fill: Option<Rgb>,
        stroke: Option<Rgb>,
        width: f64,
    ) {
        if pts.len() < 2 || (fill.is_none() && stroke.is_none()) {
            return;
        }
        if let Some(c) = fill {
            self.fill(c);
        }
        if let Some(c) = stroke {
            self.stroke(c, width);
        }
        let _ = write!(self.ops, "{} {} m", num(pts[0][0]), num(pts[0][1]));
        for p in &pts[1..] {
            let _ = write!(self.ops, " {} {} l", num(p[0]), num(p[1]));
        }
        let op = match (closed, fill.is_some(), stroke.is_some()) {
            (true, true, true) => " b",
            (true, true, false) => " f",
            (true, false, true) => " s",
            (false, _, _) => " S",
            (true, false, false) => " n",
        };
        self.ops.push_str(op);
        self.ops.push('\n');
    }

    /// A filled disc (four Bézier quarter arcs).
    pub fn disc(&mut self, cx: f64, cy: f64, r: f64, fill: Rgb) {
        const K: f64 = 0.552_284_749_8;
        let k = K * r;
        self.fill(fill);
        let _ = writeln!(
            self.ops,
            "{} {} m {} {} {} {} {} {} c {} {} {} {} {} {} c {} {} {} {} {} {} c {} {} {} {} {} {} c f",
            num(cx + r),
            num(cy),
            num(cx + r),
            num(cy + k),
            num(cx + k),
            num(cy + r),
            num(cx),
            num(cy + r),
            num(cx - k),
            num(cy + r),
            num(cx - r),
            num(cy + k),
            num(cx - r),
            num(cy),
            num(cx - r),
            num(cy - k),
            num(cx - k),
            num(cy - r),
            num(cx),
            num(cy - r),
            num(cx + k),
            num(cy - r),
            num(cx + r),
            num(cy - k),
            num(cx + r),
            num(cy)
        );
    }
}

/// A document: pages plus the embedded font.
#[derive(Clone, Debug, Default)]
pub struct Pdf {
    pub pages: Vec<Page>,
}

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

impl Pdf {
    pub fn new() -> Pdf {
        Pdf::default()
    }

    /// The PDF file. `title` goes into the document information.
    pub fn finish(&self, title: &str) -> Vec<u8> {
        let font = epaint_default_fonts::HACK_REGULAR;
        let n = self.pages.len().max(1);
        // Objects: 1 catalog, 2 page tree, 3 font, 4 descriptor, 5 font file, 6 info, then
        // (page, content) per page.
        let mut objs: Vec<Vec<u8>> = Vec::new();
        let page_id = |i: usize| 7 + 2 * i;
        objs.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
        let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", page_id(i))).collect();
        objs.push(format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).into_bytes());
        let widths = vec![CHAR_WIDTH.to_string(); 224].join(" ");
        objs.push(
            format!(
                "<< /Type /Font /Subtype /TrueType /BaseFont /Hack-Regular /FirstChar 32 \
                 /LastChar 255 /Widths [{widths}] /Encoding /WinAnsiEncoding /FontDescriptor 4 0 R >>"
            )
            .into_bytes(),
        );
        objs.push(
            format!(
                "<< /Type /FontDescriptor /FontName /Hack-Regular /Flags 33 /FontBBox [{} {} {} {}] \
                 /ItalicAngle 0 /Ascent {ASCENT} /Descent {DESCENT} /CapHeight {CAP_HEIGHT} \
                 /StemV 80 /FontFile2 5 0 R >>",
                BBOX[0], BBOX[1], BBOX[2], BBOX[3]
            )
            .into_bytes(),
        );
        let packed = deflate(font);
        let mut ff = format!(
            "<< /Length {} /Length1 {} /Filter /FlateDecode >>\nstream\n",
            packed.len(),
            font.len()
        )
        .into_bytes();
        ff.extend_from_slice(&packed);
        ff.extend_from_slice(b"\nendstream");
        objs.push(ff);
        objs.push(
            format!(
                "<< /Title {} /Producer (TwinMint {}) >>",
                literal(title),
                env!("CARGO_PKG_VERSION")
            )
            .into_bytes(),
        );
        let empty = Page::default();
        for i in 0..n {
            let page = self.pages.get(i).unwrap_or(&empty);
            objs.push(
                format!(
                    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                    num(A4.0),
                    num(A4.1),
                    page_id(i) + 1
                )
                .into_bytes(),
            );
            let packed = deflate(page.ops.as_bytes());
            let mut c = format!(
                "<< /Length {} /Filter /FlateDecode >>\nstream\n",
                packed.len()
            )
            .into_bytes();
            c.extend_from_slice(&packed);
            c.extend_from_slice(b"\nendstream");
            objs.push(c);
        }
        let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets = Vec::with_capacity(objs.len());
        for (k, o) in objs.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", k + 1).as_bytes());
            out.extend_from_slice(o);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes(),
        );
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objs.len() + 1
            )
            .as_bytes(),
        );
        out
    }
}
