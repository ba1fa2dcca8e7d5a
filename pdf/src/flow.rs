//! Text, tables and figures laid down A4 pages top to bottom, a new page when one is full.

use crate::doc::{A4, CHAR_WIDTH, Page, Pdf, Rgb, text_width};

const MARGIN: f64 = 50.0;
const BODY: f64 = 9.0;
const LEADING: f64 = 1.35;

/// A document being written from the top of its first page down.
pub struct Flow {
    pdf: Pdf,
    page: Page,
    y: f64,
    footer: String,
}

/// A region of the current page handed to a figure's drawing code.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Area {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Flow {
    /// A document whose every page carries `footer` and its page number.
    pub fn new(footer: impl Into<String>) -> Flow {
        Flow {
            pdf: Pdf::new(),
            page: Page::new(),
            y: A4.1 - MARGIN,
            footer: footer.into(),
        }
    }

    /// Usable width, points.
    pub fn width(&self) -> f64 {
        A4.0 - 2.0 * MARGIN
    }

    fn chars_per_line(&self, size: f64) -> usize {
        (self.width() / (CHAR_WIDTH / 1000.0 * size)).floor() as usize
    }

    fn finish_page(&mut self) {
        let n = self.pdf.pages.len() + 1;
        let footer = format!("{} — page {n}", self.footer);
        self.page
            .text(MARGIN, MARGIN / 2.0, 7.0, Rgb::GREY, &footer);
        let page = std::mem::take(&mut self.page);
        self.pdf.pages.push(page);
        self.y = A4.1 - MARGIN;
    }

    /// Start a new page unless `height` points still fit on this one.
    pub fn need(&mut self, height: f64) {
        if self.y - height < MARGIN {
            self.finish_page();
        }
    }

    pub fn space(&mut self, points: f64) {
        self.y -= points;
    }

    /// A title line.
    pub fn title(&mut self, text: &str) {
        self.need(30.0);
        self.y -= 18.0;
        self.page.text(MARGIN, self.y, 16.0, Rgb::BLACK, text);
        self.y -= 10.0;
    }

    /// A section heading with a rule under it.
    pub fn heading(&mut self, text: &str) {
        self.need(40.0);
        self.y -= 16.0;
        self.page.text(MARGIN, self.y, 12.0, Rgb::BLUE, text);
        self.y -= 4.0;
        let w = self.width();
        self.page
            .line([MARGIN, self.y], [MARGIN + w, self.y], 0.5, Rgb::LIGHT);
        self.y -= 6.0;
    }

    /// A paragraph, wrapped at word boundaries.
    pub fn para(&mut self, text: &str) {
        let max = self.chars_per_line(BODY);
        for line in wrap(text, max) {
            self.line_of(&line, BODY, Rgb::BLACK);
        }
        self.y -= 3.0;
    }

    /// One line of text (cut to the page width).
    pub fn line_of(&mut self, text: &str, size: f64, color: Rgb) {
        let h = size * LEADING;
        self.need(h);
        self.y -= h;
        let max = self.chars_per_line(size);
        let t: String = text.chars().take(max).collect();
        self.page.text(MARGIN, self.y, size, color, &t);
    }

    /// A table: a header row, then rows; columns as wide as their widest cell (numbers
    /// right-aligned), shrunk proportionally to fit the page.
    pub fn table(&mut self, header: &[&str], rows: &[Vec<String>]) {
        let size = 8.0;
        let cols = header.len();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for r in rows {
            for (k, c) in r.iter().enumerate().take(cols) {
                widths[k] = widths[k].max(c.chars().count());
            }
        }
        let max = self.chars_per_line(size);
        let total: usize = widths.iter().sum::<usize>() + 2 * cols.saturating_sub(1);
        if total > max {
            let scale = max as f64 / total as f64;
            widths
                .iter_mut()
                .for_each(|w| *w = ((*w as f64) * scale).floor().max(3.0) as usize);
        }
        let fmt_row = |cells: &[String], widths: &[usize]| -> String {
            let mut s = String::new();
            for (k, w) in widths.iter().enumerate() {
                let c = cells.get(k).map(String::as_str).unwrap_or("");
                let c: String = c.chars().take(*w).collect();
                let numeric = !c.is_empty()
                    && c.chars().any(|ch| ch.is_ascii_digit())
                    && c.chars()
                        .all(|ch| ch.is_ascii_digit() || "+-.,% ".contains(ch));
                if numeric && k > 0 {
                    s.push_str(&format!("{c:>w$}", w = *w));
                } else {
                    s.push_str(&format!("{c:<w$}", w = *w));
                }
                if k + 1 < widths.len() {
                    s.push_str("  ");
                }
            }
            s
        };
        let head: Vec<String> = header.iter().map(|h| h.to_string()).collect();
        self.line_of(&fmt_row(&head, &widths), size, Rgb::BLUE);
        for r in rows {
            self.line_of(&fmt_row(r, &widths), size, Rgb::BLACK);
        }
        self.y -= 4.0;
    }

    /// A figure `height` points tall across the page: `draw` gets the page and its area.
    pub fn figure(&mut self, height: f64, draw: impl FnOnce(&mut Page, Area)) {
        self.need(height + 6.0);
        self.y -= height;
        let area = Area {
            x: MARGIN,
            y: self.y,
            w: self.width(),
            h: height,
        };
        draw(&mut self.page, area);
        self.y -= 6.0;
    }

    /// A headed band chart across the page (kept with its heading on one page).
    pub fn band_figure(&mut self, heading: &str, band: &crate::figure::Band<'_>) {
        self.need(270.0);
        self.heading(heading);
        self.figure(220.0, |page, area| {
            crate::figure::band_chart(page, area, band)
        });
    }

    /// The finished PDF.
    pub fn finish(mut self, title: &str) -> Vec<u8> {
        self.finish_page();
        self.pdf.finish(title)
    }
}

/// Greedy word wrap at `max` characters (words longer than a line are cut).
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let need = cur.chars().count() + usize::from(!cur.is_empty()) + word.chars().count();
        if need > max && !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// `v` with `decimals` digits after the point, for table cells.
pub fn fixed(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}")
}

/// Width of a string at the body size (for callers placing labels).
pub fn body_width(text: &str) -> f64 {
    text_width(text, BODY)
}
