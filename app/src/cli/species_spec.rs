//! `--species`: the user's species knowledge on the command line — a stand composition
//! (`"Picea abies=0.5,Abies alba=0.2,Fagus sylvatica=0.3"`, `"conifer=0.7,broadleaf=0.3"`) or a
//! field tree list (a CSV file with a header naming `x`, `y`, `species` and optionally `class`).
//! Each species' class comes from the growth model's species table (genus fallback), unless the
//! entry says it (`Name:conifer=0.4`, or the CSV's `class` column); a name the table does not know
//! and that says no class is an error naming it.

use std::path::Path;

use anyhow::{Context, bail};

use reconstruct::SpeciesClass;
use reconstruct::species_input::{FieldTree, Share, SpeciesInput};

/// The class of a species name: an explicit class word, else the species table.
fn class_of(name: &str, explicit: Option<&str>) -> anyhow::Result<SpeciesClass> {
    if let Some(c) = explicit {
        return SpeciesClass::parse(c)
            .with_context(|| format!("{c:?} is not a class (conifer or broadleaf)"));
    }
    if let Some(conifer) = growth_model::species::class_alias(name) {
        return Ok(if conifer {
            SpeciesClass::Conifer
        } else {
            SpeciesClass::Broadleaf
        });
    }
    match growth_model::species::lookup(name) {
        Some(m) if m.group.is_softwood() => Ok(SpeciesClass::Conifer),
        Some(m) if m.group.clade().is_some() => Ok(SpeciesClass::Broadleaf),
        _ => bail!(
            "species {name:?} is not in the species table: give its class, e.g. \"{name}:conifer=0.3\""
        ),
    }
}

/// Parse `--species`: an existing `.csv` file is a field list, anything else a composition.
pub fn parse(spec: &str) -> anyhow::Result<SpeciesInput> {
    let path = Path::new(spec);
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        return field_list(path);
    }
    let mut shares = Vec::new();
    for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (name, share) = entry
            .rsplit_once('=')
            .with_context(|| format!("--species: {entry:?} is not NAME=SHARE"))?;
        let share: f64 = share
            .trim()
            .parse()
            .with_context(|| format!("--species: share of {name:?} is not a number"))?;
        let (name, explicit) = match name.rsplit_once(':') {
            Some((n, c)) => (n.trim(), Some(c.trim())),
            None => (name.trim(), None),
        };
        shares.push(Share {
            species: name.to_string(),
            class: class_of(name, explicit).context("--species")?,
            share,
        });
    }
    let input = SpeciesInput::Composition { shares };
    input.validate().context("--species")?;
    Ok(input)
}

fn field_list(path: &Path) -> anyhow::Result<SpeciesInput> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .with_context(|| format!("{}: empty field list", path.display()))?
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let col = |n: &str| header.iter().position(|h| h == n);
    let (Some(cx), Some(cy), Some(cs)) = (col("x"), col("y"), col("species")) else {
        bail!("{}: the header must name x, y and species", path.display());
    };
    let cc = col("class").or_else(|| col("group"));
    let mut trees = Vec::new();
    for (n, line) in lines.enumerate() {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let at = || format!("{} line {}", path.display(), n + 2);
        let num = |i: usize| -> anyhow::Result<f64> {
            f.get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite())
                .with_context(|| format!("{}: column {} is not a number", at(), header[i]))
        };
        let species = f.get(cs).copied().unwrap_or_default().to_string();
        let explicit = cc.and_then(|i| f.get(i).copied()).filter(|c| !c.is_empty());
        trees.push(FieldTree {
            x: num(cx)?,
            y: num(cy)?,
            class: class_of(&species, explicit).with_context(at)?,
            species,
        });
    }
    let input = SpeciesInput::FieldList {
        trees,
        max_distance_m: 3.0,
    };
    input
        .validate()
        .with_context(|| format!("{}", path.display()))?;
    Ok(input)
}
