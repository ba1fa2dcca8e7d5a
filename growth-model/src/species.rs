//! Species names and codes → growth-model species group.
//!
//! A user (a stand composition, a field tree list) or a reconstruction names a tree's species as
//! a scientific name (`Picea abies`, `Fagus sylvatica`, `Quercus spp.`), a USDA PLANTS / NEON
//! code (`PIPA2`, `QURU`, `ACSA3`, genus codes such as `PINUS`), a common English name
//! (`Norway spruce`, `loblolly pine`) or a growth-model group name (`spruce`, `oak`,
//! `hard_maple_oak_hickory_beech`). [`lookup`] turns any of these into a [`SpeciesMatch`]: the
//! species group (Jenkins et al. 2003's ten groups, see [`SpeciesGroup`]) and, where known, the
//! genus and species that pick a species-level biomass equation.
//!
//! The table holds the common trees of European and North American forests. Names it does not
//! know return `None` (the caller then falls back to the conifer/broadleaf class or the default
//! group) rather than a guess. Genus-level fallback: any species of a known genus takes the
//! genus's group — Picea → spruce; Abies, Tsuga → true fir/hemlock; Pinus → pine; Larix and the
//! Cupressaceae → cedar/larch; Pseudotsuga → Douglas-fir; Fagus, Quercus, Carya (and Acer
//! saccharum/nigrum) → hard maple/oak/hickory/beech; Betula and the other maples → soft
//! maple/birch; Populus, Alnus, Salix → aspen/alder/cottonwood/willow; the other broadleaved
//! genera in the table → mixed hardwood. Group assignments follow Jenkins et al. (2003, Table 1
//! and Appendix); European species take the group of their North American congeners.
//!
//! Codes: a code with its USDA digits (`ACSA3`) matches exactly where the table carries it;
//! otherwise the four letters (first two of the genus + first two of the epithet) are matched
//! against the table's binomials, and a prefix shared by species of different genera or groups
//! (`CADE`: *Castanea dentata* and *Calocedrus decurrens*) is refused rather than guessed.

use crate::allometry::SpeciesGroup;

/// What a name matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchLevel {
    /// A species (binomial, code or common name).
    Species,
    /// A genus (`Picea`, `Quercus spp.`, `PINUS`).
    Genus,
    /// A growth-model species group name or alias (`spruce`, `oak`).
    Group,
}

/// The result of [`lookup`].
#[derive(Clone, Debug, PartialEq)]
pub struct SpeciesMatch {
    pub group: SpeciesGroup,
    /// Genus, capitalised (`"Picea"`), when the name identifies one.
    pub genus: Option<&'static str>,
    /// Specific epithet, lower case (`"abies"`), when the name identifies a species.
    pub epithet: Option<&'static str>,
    pub level: MatchLevel,
}

impl SpeciesMatch {
    /// `Genus epithet`, `Genus`, or the group name.
    pub fn canonical(&self) -> String {
        match (self.genus, self.epithet) {
            (Some(g), Some(e)) => format!("{g} {e}"),
            (Some(g), None) => g.to_string(),
            _ => self.group.name().to_string(),
        }
    }

    /// Whether the genus is `g` (case-sensitive, capitalised).
    pub fn is_genus(&self, g: &str) -> bool {
        self.genus == Some(g)
    }

    /// Whether the species is `genus epithet`.
    pub fn is(&self, genus: &str, epithet: &str) -> bool {
        self.genus == Some(genus) && self.epithet == Some(epithet)
    }
}

use SpeciesGroup::{
    AspenAlderCottonwoodWillow as ASPEN, CedarLarch as CEDAR, DouglasFir as DFIR,
    HardMapleOakHickoryBeech as HARD, MixedHardwood as MIXED, Pine as PINE, SoftMapleBirch as SOFT,
    Spruce as SPRUCE, TrueFirHemlock as FIR, WoodlandJuniperOakMesquite as WOODLAND,
};

/// Genus → group (the genus-level fallback).
const GENERA: &[(&str, SpeciesGroup)] = &[
    ("Abies", FIR),
    ("Tsuga", FIR),
    ("Picea", SPRUCE),
    ("Pinus", PINE),
    ("Larix", CEDAR),
    ("Pseudotsuga", DFIR),
    ("Thuja", CEDAR),
    ("Calocedrus", CEDAR),
    ("Chamaecyparis", CEDAR),
    ("Callitropsis", CEDAR),
    ("Cupressus", CEDAR),
    ("Sequoia", CEDAR),
    ("Sequoiadendron", CEDAR),
    ("Taxodium", CEDAR),
    ("Cedrus", CEDAR),
    ("Taxus", CEDAR),
    ("Juniperus", WOODLAND),
    ("Prosopis", WOODLAND),
    ("Fagus", HARD),
    ("Quercus", HARD),
    ("Carya", HARD),
    ("Acer", SOFT),
    ("Betula", SOFT),
    ("Populus", ASPEN),
    ("Alnus", ASPEN),
    ("Salix", ASPEN),
    ("Fraxinus", MIXED),
    ("Tilia", MIXED),
    ("Ulmus", MIXED),
    ("Prunus", MIXED),
    ("Liriodendron", MIXED),
    ("Liquidambar", MIXED),
    ("Nyssa", MIXED),
    ("Magnolia", MIXED),
    ("Juglans", MIXED),
    ("Robinia", MIXED),
    ("Gleditsia", MIXED),
    ("Platanus", MIXED),
    ("Carpinus", MIXED),
    ("Ostrya", MIXED),
    ("Castanea", MIXED),
    ("Sorbus", MIXED),
    ("Aesculus", MIXED),
    ("Cornus", MIXED),
    ("Oxydendrum", MIXED),
    ("Sassafras", MIXED),
    ("Celtis", MIXED),
    ("Ilex", MIXED),
    ("Diospyros", MIXED),
    ("Malus", MIXED),
    ("Pyrus", MIXED),
    ("Lithocarpus", MIXED),
    ("Arbutus", MIXED),
    ("Eucalyptus", MIXED),
];

/// One species: genus, epithet, group when it differs from the genus's, USDA PLANTS codes that
/// must match exactly (only where the four-letter prefix is ambiguous), common names. Public
/// (read-only, through [`SPECIES`]) so the table can be checked from outside: every entry must
/// resolve to itself through [`lookup`].
pub struct Sp {
    pub genus: &'static str,
    pub epithet: &'static str,
    pub group: Option<SpeciesGroup>,
    pub codes: &'static [&'static str],
    pub common: &'static [&'static str],
}

const fn sp(genus: &'static str, epithet: &'static str, common: &'static [&'static str]) -> Sp {
    Sp {
        genus,
        epithet,
        group: None,
        codes: &[],
        common,
    }
}

const fn spg(
    genus: &'static str,
    epithet: &'static str,
    group: SpeciesGroup,
    common: &'static [&'static str],
) -> Sp {
    Sp {
        genus,
        epithet,
        group: Some(group),
        codes: &[],
        common,
    }
}

const fn spc(
    genus: &'static str,
    epithet: &'static str,
    codes: &'static [&'static str],
    common: &'static [&'static str],
) -> Sp {
    Sp {
        genus,
        epithet,
        group: None,
        codes,
        common,
    }
}

/// The species table (European and North American forest trees).
pub const SPECIES: &[Sp] = &[
    // --- Abies
    sp("Abies", "alba", &["silver fir", "european silver fir"]),
    sp("Abies", "balsamea", &["balsam fir"]),
    sp("Abies", "fraseri", &["fraser fir"]),
    sp("Abies", "lasiocarpa", &["subalpine fir"]),
    sp("Abies", "concolor", &["white fir"]),
    sp("Abies", "grandis", &["grand fir"]),
    sp("Abies", "amabilis", &["pacific silver fir"]),
    sp("Abies", "procera", &["noble fir"]),
    sp("Abies", "magnifica", &["california red fir", "red fir"]),
    sp("Abies", "nordmanniana", &["nordmann fir"]),
    // --- Tsuga
    spc("Tsuga", "canadensis", &["TSCA"], &["eastern hemlock"]),
    spc("Tsuga", "caroliniana", &["TSCA2"], &["carolina hemlock"]),
    sp("Tsuga", "heterophylla", &["western hemlock"]),
    sp("Tsuga", "mertensiana", &["mountain hemlock"]),
    // --- Picea
    sp("Picea", "abies", &["norway spruce", "european spruce"]),
    sp("Picea", "glauca", &["white spruce"]),
    sp("Picea", "mariana", &["black spruce"]),
    sp("Picea", "rubens", &["red spruce"]),
    sp("Picea", "engelmannii", &["engelmann spruce"]),
    sp("Picea", "sitchensis", &["sitka spruce"]),
    spc(
        "Picea",
        "pungens",
        &["PIPU"],
        &["blue spruce", "colorado spruce"],
    ),
    sp("Picea", "omorika", &["serbian spruce"]),
    // --- Pinus
    sp("Pinus", "sylvestris", &["scots pine", "scotch pine"]),
    sp(
        "Pinus",
        "nigra",
        &["black pine", "austrian pine", "european black pine"],
    ),
    sp("Pinus", "pinaster", &["maritime pine"]),
    sp("Pinus", "pinea", &["stone pine", "umbrella pine"]),
    sp("Pinus", "halepensis", &["aleppo pine"]),
    sp("Pinus", "cembra", &["swiss stone pine", "arolla pine"]),
    sp("Pinus", "mugo", &["mountain pine", "mugo pine"]),
    sp("Pinus", "strobus", &["eastern white pine"]),
    sp("Pinus", "resinosa", &["red pine"]),
    sp("Pinus", "banksiana", &["jack pine"]),
    sp("Pinus", "taeda", &["loblolly pine"]),
    sp("Pinus", "palustris", &["longleaf pine"]),
    sp("Pinus", "elliottii", &["slash pine"]),
    sp("Pinus", "echinata", &["shortleaf pine"]),
    sp("Pinus", "rigida", &["pitch pine"]),
    sp("Pinus", "virginiana", &["virginia pine"]),
    spc("Pinus", "pungens", &["PIPU5"], &["table mountain pine"]),
    sp("Pinus", "serotina", &["pond pine"]),
    sp("Pinus", "ponderosa", &["ponderosa pine"]),
    sp("Pinus", "contorta", &["lodgepole pine"]),
    sp("Pinus", "monticola", &["western white pine"]),
    sp("Pinus", "lambertiana", &["sugar pine"]),
    sp("Pinus", "jeffreyi", &["jeffrey pine"]),
    sp(
        "Pinus",
        "edulis",
        &["pinyon", "two-needle pinyon", "colorado pinyon"],
    ),
    // --- Larix
    sp("Larix", "decidua", &["european larch"]),
    sp("Larix", "kaempferi", &["japanese larch"]),
    sp("Larix", "laricina", &["tamarack"]),
    sp("Larix", "occidentalis", &["western larch"]),
    // --- Pseudotsuga
    sp("Pseudotsuga", "menziesii", &["douglas-fir", "douglas fir"]),
    // --- Cupressaceae and other cedars
    sp(
        "Thuja",
        "occidentalis",
        &["northern white-cedar", "eastern white cedar"],
    ),
    sp(
        "Thuja",
        "plicata",
        &["western redcedar", "western red cedar"],
    ),
    spc(
        "Calocedrus",
        "decurrens",
        &["CADE27"],
        &["incense-cedar", "incense cedar"],
    ),
    sp("Chamaecyparis", "thyoides", &["atlantic white-cedar"]),
    sp(
        "Chamaecyparis",
        "nootkatensis",
        &["alaska yellow-cedar", "yellow cedar"],
    ),
    sp("Sequoia", "sempervirens", &["redwood", "coast redwood"]),
    sp("Sequoiadendron", "giganteum", &["giant sequoia"]),
    sp("Taxodium", "distichum", &["baldcypress", "bald cypress"]),
    sp("Taxus", "baccata", &["european yew", "yew"]),
    spg(
        "Juniperus",
        "virginiana",
        CEDAR,
        &["eastern redcedar", "eastern red cedar"],
    ),
    sp("Juniperus", "osteosperma", &["utah juniper"]),
    sp("Juniperus", "monosperma", &["oneseed juniper"]),
    sp("Juniperus", "scopulorum", &["rocky mountain juniper"]),
    sp("Juniperus", "communis", &["common juniper"]),
    sp("Prosopis", "glandulosa", &["honey mesquite", "mesquite"]),
    // --- Fagaceae
    sp("Fagus", "sylvatica", &["european beech", "common beech"]),
    sp("Fagus", "grandifolia", &["american beech"]),
    sp("Quercus", "robur", &["pedunculate oak", "english oak"]),
    sp("Quercus", "petraea", &["sessile oak"]),
    sp("Quercus", "pubescens", &["downy oak"]),
    sp("Quercus", "cerris", &["turkey oak"]),
    sp("Quercus", "ilex", &["holm oak"]),
    sp("Quercus", "suber", &["cork oak"]),
    sp("Quercus", "rubra", &["northern red oak", "red oak"]),
    sp("Quercus", "alba", &["white oak"]),
    sp("Quercus", "velutina", &["black oak"]),
    spc("Quercus", "montana", &["QUMO4"], &["chestnut oak"]),
    spc("Quercus", "prinus", &["QUPR2"], &[]),
    sp("Quercus", "coccinea", &["scarlet oak"]),
    sp("Quercus", "macrocarpa", &["bur oak"]),
    sp("Quercus", "stellata", &["post oak"]),
    sp("Quercus", "falcata", &["southern red oak"]),
    sp("Quercus", "laevis", &["american turkey oak"]),
    sp("Quercus", "nigra", &["water oak"]),
    sp("Quercus", "palustris", &["pin oak"]),
    sp("Quercus", "virginiana", &["live oak"]),
    spg("Quercus", "gambelii", WOODLAND, &["gambel oak"]),
    sp("Castanea", "sativa", &["sweet chestnut"]),
    spc("Castanea", "dentata", &["CADE12"], &["american chestnut"]),
    sp("Carya", "ovata", &["shagbark hickory"]),
    sp("Carya", "glabra", &["pignut hickory"]),
    sp("Carya", "tomentosa", &["mockernut hickory"]),
    sp("Carya", "cordiformis", &["bitternut hickory"]),
    sp("Carya", "illinoinensis", &["pecan"]),
    // --- maples
    Sp {
        genus: "Acer",
        epithet: "saccharum",
        group: Some(HARD),
        codes: &["ACSA3"],
        common: &["sugar maple"],
    },
    spg("Acer", "nigrum", HARD, &["black maple"]),
    sp("Acer", "rubrum", &["red maple"]),
    spc("Acer", "saccharinum", &["ACSA2"], &["silver maple"]),
    sp("Acer", "negundo", &["boxelder", "box elder"]),
    sp("Acer", "pensylvanicum", &["striped maple"]),
    sp("Acer", "macrophyllum", &["bigleaf maple"]),
    sp("Acer", "pseudoplatanus", &["sycamore maple"]),
    sp("Acer", "platanoides", &["norway maple"]),
    sp("Acer", "campestre", &["field maple"]),
    // --- birches, alders, poplars, willows
    sp("Betula", "pendula", &["silver birch"]),
    sp("Betula", "pubescens", &["downy birch"]),
    sp("Betula", "papyrifera", &["paper birch"]),
    sp("Betula", "alleghaniensis", &["yellow birch"]),
    sp("Betula", "lenta", &["sweet birch", "black birch"]),
    sp("Betula", "nigra", &["river birch"]),
    sp("Betula", "populifolia", &["gray birch", "grey birch"]),
    sp("Alnus", "glutinosa", &["black alder", "common alder"]),
    sp("Alnus", "incana", &["grey alder", "gray alder"]),
    sp("Alnus", "rubra", &["red alder"]),
    sp("Populus", "tremula", &["eurasian aspen", "european aspen"]),
    spc(
        "Populus",
        "tremuloides",
        &["POTR5"],
        &["quaking aspen", "trembling aspen"],
    ),
    sp("Populus", "grandidentata", &["bigtooth aspen"]),
    sp("Populus", "deltoides", &["eastern cottonwood"]),
    sp("Populus", "balsamifera", &["balsam poplar"]),
    sp("Populus", "trichocarpa", &["black cottonwood"]),
    sp("Populus", "nigra", &["black poplar"]),
    sp("Populus", "alba", &["white poplar"]),
    spc("Salix", "alba", &["SAAL2"], &["white willow"]),
    sp("Salix", "nigra", &["black willow"]),
    sp("Salix", "caprea", &["goat willow"]),
    // --- other broadleaves (mixed hardwood)
    sp("Fraxinus", "excelsior", &["european ash", "common ash"]),
    sp("Fraxinus", "americana", &["white ash"]),
    sp("Fraxinus", "pennsylvanica", &["green ash"]),
    sp("Fraxinus", "nigra", &["black ash"]),
    sp(
        "Tilia",
        "cordata",
        &["small-leaved lime", "small-leaved linden"],
    ),
    sp("Tilia", "platyphyllos", &["large-leaved lime"]),
    sp("Tilia", "americana", &["american basswood", "basswood"]),
    sp("Ulmus", "americana", &["american elm"]),
    sp("Ulmus", "rubra", &["slippery elm"]),
    sp("Ulmus", "glabra", &["wych elm"]),
    sp("Ulmus", "minor", &["field elm"]),
    sp("Prunus", "serotina", &["black cherry"]),
    sp("Prunus", "avium", &["wild cherry"]),
    sp(
        "Liriodendron",
        "tulipifera",
        &["yellow-poplar", "tulip tree", "tuliptree"],
    ),
    sp("Liquidambar", "styraciflua", &["sweetgum"]),
    sp("Nyssa", "sylvatica", &["blackgum", "black tupelo"]),
    sp("Magnolia", "acuminata", &["cucumbertree"]),
    sp("Juglans", "nigra", &["black walnut"]),
    sp("Juglans", "regia", &["common walnut", "english walnut"]),
    sp("Robinia", "pseudoacacia", &["black locust", "false acacia"]),
    sp("Platanus", "occidentalis", &["american sycamore"]),
    sp("Carpinus", "betulus", &["hornbeam", "european hornbeam"]),
    sp("Carpinus", "caroliniana", &["american hornbeam"]),
    sp("Ostrya", "virginiana", &["eastern hophornbeam"]),
    sp("Sorbus", "aucuparia", &["rowan", "mountain ash"]),
    sp("Aesculus", "hippocastanum", &["horse chestnut"]),
    sp("Cornus", "florida", &["flowering dogwood"]),
    sp("Oxydendrum", "arboreum", &["sourwood"]),
    spc("Sassafras", "albidum", &["SAAL5"], &["sassafras"]),
    sp("Celtis", "occidentalis", &["hackberry"]),
    sp("Ilex", "opaca", &["american holly"]),
];

/// The genus-level group of `genus` (case-insensitive) and the genus as the table spells it.
pub fn genus_group(genus: &str) -> Option<(&'static str, SpeciesGroup)> {
    GENERA
        .iter()
        .find(|(g, _)| g.eq_ignore_ascii_case(genus))
        .map(|(g, grp)| (*g, *grp))
}

impl Sp {
    /// The species' group: its own where the table gives one, else its genus's.
    pub fn group(&self) -> SpeciesGroup {
        self.group
            .or_else(|| genus_group(self.genus).map(|(_, g)| g))
            .unwrap_or(MIXED)
    }
    fn matched(&self) -> SpeciesMatch {
        SpeciesMatch {
            group: self.group(),
            genus: Some(self.genus),
            epithet: Some(self.epithet),
            level: MatchLevel::Species,
        }
    }
    /// First two letters of genus and epithet, upper case (the USDA PLANTS symbol stem).
    fn stem(&self) -> String {
        let g: String = self.genus.chars().take(2).collect();
        let e: String = self.epithet.chars().take(2).collect();
        format!("{g}{e}").to_ascii_uppercase()
    }
}

/// Whether `name` states only a class: `Some(true)` for conifer/softwood/gymnosperm/needleleaf,
/// `Some(false)` for broadleaf/hardwood/angiosperm/deciduous.
pub fn class_alias(name: &str) -> Option<bool> {
    match name.trim().to_ascii_lowercase().as_str() {
        "conifer" | "coniferous" | "conifers" | "softwood" | "gymnosperm" | "needleleaf" => {
            Some(true)
        }
        "broadleaf" | "broadleaved" | "broad-leaved" | "broadleaves" | "hardwood"
        | "angiosperm" | "deciduous" => Some(false),
        _ => None,
    }
}

/// Looks a species name, code, common name or group name up. `None` for names the table does
/// not know and for bare class words (see [`class_alias`]).
pub fn lookup(name: &str) -> Option<SpeciesMatch> {
    let raw = name.trim();
    if raw.is_empty() || class_alias(raw).is_some() {
        return None;
    }
    let is_code = raw.len() >= 4
        && raw.len() <= 9
        && raw.chars().all(|c| c.is_ascii_alphanumeric())
        && raw.chars().all(|c| !c.is_ascii_lowercase())
        && raw.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if is_code && let Some(m) = lookup_code(raw) {
        return Some(m);
    }
    lookup_name(raw)
}

fn lookup_code(code: &str) -> Option<SpeciesMatch> {
    if let Some(s) = SPECIES.iter().find(|s| s.codes.contains(&code)) {
        return Some(s.matched());
    }
    let letters: String = code
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let has_digits = letters.len() < code.len();
    if letters.len() == 4 {
        let cands: Vec<&Sp> = SPECIES
            .iter()
            .filter(|s| s.stem() == letters)
            // A code with digits that the table carries for another species is not this one.
            .filter(|s| !(has_digits && !s.codes.is_empty() && !s.codes.contains(&code)))
            .collect();
        match cands.as_slice() {
            [] => {}
            [one] => return Some(one.matched()),
            [first, rest @ ..] => {
                if rest
                    .iter()
                    .all(|s| s.genus == first.genus && s.group() == first.group())
                {
                    return Some(SpeciesMatch {
                        group: first.group(),
                        genus: Some(first.genus),
                        epithet: None,
                        level: MatchLevel::Genus,
                    });
                }
                return None;
            }
        }
    }
    // Genus codes: the genus name truncated (PINUS, QUERC, BETUL, ACER).
    if !has_digits && letters.len() >= 4 {
        let hits: Vec<&(&str, SpeciesGroup)> = GENERA
            .iter()
            .filter(|(g, _)| g.to_ascii_uppercase().starts_with(&letters))
            .collect();
        if let [(g, grp)] = hits.as_slice() {
            return Some(SpeciesMatch {
                group: *grp,
                genus: Some(g),
                epithet: None,
                level: MatchLevel::Genus,
            });
        }
    }
    None
}

fn lookup_name(raw: &str) -> Option<SpeciesMatch> {
    let lower = raw.to_ascii_lowercase().replace(['_', '×'], " ");
    let words: Vec<&str> = lower.split_whitespace().collect();
    if words.is_empty() {
        return None;
    }
    // Common names first (they can contain a genus-like word, e.g. "douglas fir").
    let joined = words.join(" ");
    if let Some(s) = SPECIES
        .iter()
        .find(|s| s.common.iter().any(|c| *c == joined))
    {
        return Some(s.matched());
    }
    if let Some((genus, group)) = genus_group(words[0]) {
        let epithet = words
            .get(1)
            .filter(|e| !matches!(**e, "sp" | "sp." | "spp" | "spp." | "x"));
        if let Some(e) = epithet
            && let Some(s) = SPECIES.iter().find(|s| s.genus == genus && s.epithet == *e)
        {
            return Some(s.matched());
        }
        // An unknown species of a known genus, or the genus alone.
        return Some(SpeciesMatch {
            group,
            genus: Some(genus),
            epithet: None,
            level: MatchLevel::Genus,
        });
    }
    SpeciesGroup::parse(&joined).map(|group| SpeciesMatch {
        group,
        genus: None,
        epithet: None,
        level: MatchLevel::Group,
    })
}
