//! Tests of `growth_model::species` (src/species.rs).
use growth_model::SpeciesGroup;
use growth_model::SpeciesGroup::{
    AspenAlderCottonwoodWillow as ASPEN, CedarLarch as CEDAR, DouglasFir as DFIR,
    HardMapleOakHickoryBeech as HARD, MixedHardwood as MIXED, Pine as PINE, SoftMapleBirch as SOFT,
    Spruce as SPRUCE, TrueFirHemlock as FIR, WoodlandJuniperOakMesquite as WOODLAND,
};
use growth_model::species::*;

fn group(s: &str) -> Option<SpeciesGroup> {
    lookup(s).map(|m| m.group)
}

#[test]
fn binomials_codes_and_common_names() {
    assert_eq!(group("Picea abies"), Some(SPRUCE));
    assert_eq!(group("  fagus   SYLVATICA "), Some(HARD));
    assert_eq!(group("Pinus palustris"), Some(PINE));
    assert_eq!(group("Abies alba"), Some(FIR));
    assert_eq!(group("Larix decidua"), Some(CEDAR));
    assert_eq!(group("Pseudotsuga menziesii"), Some(DFIR));
    assert_eq!(group("Tsuga canadensis"), Some(FIR));
    assert_eq!(group("Acer saccharum"), Some(HARD));
    assert_eq!(group("Acer rubrum"), Some(SOFT));
    assert_eq!(group("Betula pendula"), Some(SOFT));
    assert_eq!(group("Populus tremuloides"), Some(ASPEN));
    assert_eq!(group("Alnus glutinosa"), Some(ASPEN));
    assert_eq!(group("Salix alba"), Some(ASPEN));
    assert_eq!(group("Liriodendron tulipifera"), Some(MIXED));
    assert_eq!(group("Juniperus virginiana"), Some(CEDAR));
    assert_eq!(group("Juniperus osteosperma"), Some(WOODLAND));
    // USDA PLANTS / NEON codes.
    assert_eq!(group("PIPA2"), Some(PINE));
    assert_eq!(group("QURU"), Some(HARD));
    assert_eq!(group("ACRU"), Some(SOFT));
    assert_eq!(group("ACSA3"), Some(HARD));
    assert_eq!(group("ACSA2"), Some(SOFT));
    assert_eq!(group("TSCA"), Some(FIR));
    assert_eq!(group("PSME"), Some(DFIR));
    assert_eq!(group("LITU"), Some(MIXED));
    assert_eq!(
        group("SAAL5"),
        Some(MIXED),
        "Sassafras albidum, not Salix alba"
    );
    assert_eq!(group("SAAL2"), Some(ASPEN));
    assert_eq!(group("PINUS"), Some(PINE));
    assert_eq!(group("QUERC"), Some(HARD));
    // ACSA without digits is sugar or silver maple: different groups, so no guess.
    assert_eq!(lookup("ACSA"), None);
    // CADE: Castanea dentata vs Calocedrus decurrens.
    assert_eq!(lookup("CADE"), None);
    assert_eq!(group("CADE27"), Some(CEDAR));
    // Common names.
    assert_eq!(group("Norway spruce"), Some(SPRUCE));
    assert_eq!(group("loblolly pine"), Some(PINE));
    assert_eq!(group("Douglas fir"), Some(DFIR));
    let m = lookup("European beech").unwrap();
    assert!(m.is("Fagus", "sylvatica"));
    assert_eq!(m.canonical(), "Fagus sylvatica");
}

#[test]
fn genus_fallback_and_group_names() {
    let m = lookup("Picea").unwrap();
    assert_eq!(
        (m.group, m.level, m.epithet),
        (SPRUCE, MatchLevel::Genus, None)
    );
    assert_eq!(group("Quercus spp."), Some(HARD));
    assert_eq!(
        group("Abies koreana"),
        Some(FIR),
        "unknown species, known genus"
    );
    assert_eq!(group("Carya sp."), Some(HARD));
    assert_eq!(group("Populus × canadensis"), Some(ASPEN));
    let g = lookup("spruce").unwrap();
    assert_eq!((g.group, g.level), (SPRUCE, MatchLevel::Group));
    assert_eq!(group("hard_maple_oak_hickory_beech"), Some(HARD));
    assert_eq!(group("oak"), Some(HARD));
    // Unknown names and bare class words are not species.
    assert_eq!(lookup("Tectona grandis"), None);
    assert_eq!(lookup("xyz"), None);
    assert_eq!(lookup("conifer"), None);
    assert_eq!(class_alias("Conifer"), Some(true));
    assert_eq!(class_alias("broadleaf"), Some(false));
    assert_eq!(lookup(""), None);
}

#[test]
fn every_table_species_resolves_to_itself() {
    for s in SPECIES {
        let name = format!("{} {}", s.genus, s.epithet);
        let m = lookup(&name).unwrap_or_else(|| panic!("{name}"));
        assert!(m.is(s.genus, s.epithet), "{name}");
        for c in s.common {
            let m = lookup(c).unwrap_or_else(|| panic!("{c}"));
            assert_eq!(m.group, s.group(), "{c}");
        }
        assert!(
            genus_group(s.genus).is_some(),
            "{} has a genus entry",
            s.genus
        );
    }
}
