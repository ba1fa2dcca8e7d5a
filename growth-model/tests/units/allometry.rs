//! Tests of `growth_model::allometry` (src/allometry.rs).
use growth_model::allometry::*;
use growth_model::species::SpeciesMatch;

#[test]
fn chave_worked_value() {
    // 0.0673 · (0.6 · 30² · 20)^0.976 = 0.0673 · 10800^0.976 ≈ 581.6 kg
    let agb = chave2014_agb_kg(0.6, 30.0, 20.0);
    let expected = 0.0673 * 10800f64.powf(0.976);
    assert!((agb - expected).abs() < 1e-9);
    assert!((agb - 581.0).abs() / 581.0 < 0.01, "{agb}");
}

#[test]
fn jenkins_pine_worked_value() {
    let agb = jenkins2003_agb_kg(SpeciesGroup::Pine, 30.0);
    assert!((agb - 313.0).abs() / 313.0 < 0.01, "{agb}");
}

#[test]
fn jucker_global_worked_value() {
    let d = JuckerBiome::Global.coefficients(None).dbh_cm(20.0, 6.0);
    assert!((d - 26.8).abs() / 26.8 < 0.01, "{d}");
    // Inverse reproduces the crown diameter.
    let cd = JUCKER_GLOBAL.crown_diameter_m(d, 20.0);
    assert!((cd - 6.0).abs() < 1e-9);
}

#[test]
fn jucker_palearctic_pairs() {
    let g = JuckerBiome::PalearcticTemperateMixed.coefficients(Some(Clade::Gymnosperm));
    assert_eq!((g.a, g.b), (1.004, 0.730));
    let a = JuckerBiome::PalearcticTemperateMixed.coefficients(Some(Clade::Angiosperm));
    assert_eq!((a.a, a.b), (0.694, 0.730));
    // No gymnosperm model in Neotropic tropical forests → global.
    let n = JuckerBiome::NeotropicTropicalForests.coefficients(Some(Clade::Gymnosperm));
    assert_eq!(n, JUCKER_GLOBAL);
}

#[test]
fn bigger_tree_more_biomass() {
    for g in SpeciesGroup::ALL {
        let mut prev = 0.0;
        for d in [5.0, 10.0, 20.0, 40.0, 80.0] {
            let j = jenkins2003_agb_kg(g, d);
            assert!(j > prev);
            prev = j;
        }
        let rho = g.wood_density().mean;
        assert!(chave2014_agb_kg(rho, 30.0, 25.0) > chave2014_agb_kg(rho, 30.0, 20.0));
        assert!(chave2014_agb_kg(rho, 31.0, 20.0) > chave2014_agb_kg(rho, 30.0, 20.0));
    }
}

#[test]
fn root_shoot_table() {
    let r = RootShoot::default();
    assert_eq!(r.ratio(30.0, ForestType::Conifer), 0.40);
    assert_eq!(r.ratio(100.0, ForestType::Conifer), 0.29);
    assert_eq!(r.ratio(200.0, ForestType::Conifer), 0.20);
    assert_eq!(r.ratio(100.0, ForestType::Oak), 0.35);
    assert_eq!(r.ratio(50.0, ForestType::OtherBroadleaf), 0.46);
}

fn m(name: &str) -> SpeciesMatch {
    growth_model::species::lookup(name).unwrap_or_else(|| panic!("{name}"))
}

fn agb30(eq: BiomassEquation, name: &str, source: GroupSource) -> (String, f64) {
    let t = m(name);
    let model = AgbModel::for_tree(eq, t.group, Some(&t), source);
    (model.taxon.to_string(), model.agb_kg(30.0, 20.0))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn chojnacky_2014_hand_computed() {
    // Table 5: ln(AGB) = β0 + β1 ln(30); exp(-2.6177 + 2.4638·3.4012) = 318.04 kg.
    let c = BiomassEquation::Chojnacky2014;
    let (taxon, v) = agb30(c, "Pinus strobus", GroupSource::Species);
    assert_eq!(taxon, "Pinus spg<0.45");
    assert!(close(v, (-2.6177 + 2.4638 * 30f64.ln()).exp()), "{v}");
    assert!((v - 318.04).abs() < 0.01, "{v}");
    let (taxon, v) = agb30(c, "PIPA2", GroupSource::Species);
    assert_eq!(
        taxon, "Pinus spg>=0.45",
        "longleaf is a southern yellow pine"
    );
    assert!((v - 384.01).abs() < 0.01, "{v}");
    let (taxon, v) = agb30(c, "Picea rubens", GroupSource::Species);
    assert_eq!(taxon, "Picea spg>=0.35");
    assert!((v - 319.13).abs() < 0.01, "{v}");
    assert_eq!(
        agb30(c, "Picea engelmannii", GroupSource::Species).0,
        "Picea spg<0.35"
    );
    let (taxon, v) = agb30(c, "QURU", GroupSource::Species);
    assert_eq!(taxon, "Fagaceae deciduous");
    assert!((v - 508.68).abs() < 0.01, "{v}");
    assert_eq!(
        agb30(c, "Quercus virginiana", GroupSource::Species).0,
        "Fagaceae evergreen"
    );
    let (taxon, v) = agb30(c, "ACSA3", GroupSource::Species);
    assert_eq!(taxon, "Aceraceae spg>=0.50");
    assert!((v - 550.84).abs() < 0.01, "{v}");
    assert_eq!(
        agb30(c, "Acer rubrum", GroupSource::Species).0,
        "Aceraceae spg<0.50"
    );
    assert_eq!(
        agb30(c, "Carya ovata", GroupSource::Species).0,
        "Fabaceae/Juglandaceae Carya"
    );
    assert_eq!(
        agb30(c, "Abies balsamea", GroupSource::Species).0,
        "Abies spg<0.35"
    );
    assert_eq!(
        agb30(c, "Tsuga canadensis", GroupSource::Species).0,
        "Tsuga spg<0.40"
    );
    // Group only → the group's taxon; woodland keeps Jenkins (root-collar diameter).
    let g = AgbModel::for_tree(c, SpeciesGroup::Pine, None, GroupSource::Class);
    assert_eq!((g.equation, g.taxon), (c, "Pinus spg<0.45"));
    let w = AgbModel::for_tree(
        c,
        SpeciesGroup::WoodlandJuniperOakMesquite,
        None,
        GroupSource::Default,
    );
    assert_eq!(w.equation, BiomassEquation::Jenkins2003);
    // σ: the Jenkins group RMSE.
    assert_eq!(g.log_sigma, 0.253781);
}

#[test]
fn forrester_2017_hand_computed() {
    // AGB = exp(ln β0 + β1 ln D) · CF; Fagus sylvatica: exp(-1.6594 + 2.3589 ln 30) · 0.9969.
    let f = BiomassEquation::Forrester2017;
    let (taxon, v) = agb30(f, "Fagus sylvatica", GroupSource::Species);
    assert_eq!(taxon, "Fagus sylvatica");
    assert!(
        close(v, (-1.6594 + 2.3589 * 30f64.ln()).exp() * 0.9969),
        "{v}"
    );
    assert!((v - 578.58).abs() < 0.01, "{v}");
    let (taxon, v) = agb30(f, "Picea abies", GroupSource::Species);
    assert_eq!(taxon, "Picea abies");
    assert!((v - 405.55).abs() < 0.01, "{v}");
    assert_eq!(
        agb30(f, "Quercus robur", GroupSource::Species).0,
        "Quercus petraea/robur"
    );
    assert_eq!(
        agb30(f, "Abies grandis", GroupSource::Species).0,
        "Abies alba",
        "genus fallback"
    );
    assert_eq!(
        agb30(f, "Pinus nigra", GroupSource::Species).0,
        "Pinus nigra"
    );
    // A class call or the default uses the generic equations.
    let c = AgbModel::for_tree(f, SpeciesGroup::Spruce, None, GroupSource::Class);
    assert_eq!(c.taxon, "Conifers");
    assert!((c.agb_kg(30.0, 20.0) - 372.28).abs() < 0.01);
    let b = AgbModel::for_tree(f, SpeciesGroup::MixedHardwood, None, GroupSource::Default);
    assert_eq!(b.taxon, "Broad-leaved species");
    assert!((b.agb_kg(30.0, 20.0) - 418.60).abs() < 0.01);
    // A group given without a species → its commonest European species.
    let s = AgbModel::for_tree(f, SpeciesGroup::Spruce, None, GroupSource::SpeciesGroup);
    assert_eq!(s.taxon, "Picea abies");
    // A named species of another group than the resolved one is ignored.
    let beech = m("Fagus sylvatica");
    let x = AgbModel::for_tree(
        f,
        SpeciesGroup::Pine,
        Some(&beech),
        GroupSource::SpeciesGroup,
    );
    assert_eq!(x.taxon, "Pinus sylvestris");
}

#[test]
fn region_picks_equations_and_biome() {
    assert_eq!(
        BiomassEquation::Auto.resolve(Region::NorthAmerica),
        BiomassEquation::Chojnacky2014
    );
    assert_eq!(
        BiomassEquation::Auto.resolve(Region::Europe),
        BiomassEquation::Forrester2017
    );
    assert_eq!(
        BiomassEquation::Auto.resolve(Region::Tropics),
        BiomassEquation::Chave2014
    );
    assert_eq!(
        BiomassEquation::Auto.resolve(Region::Global),
        BiomassEquation::Jenkins2003
    );
    assert_eq!(
        BiomassEquation::Jenkins2003.resolve(Region::Europe),
        BiomassEquation::Jenkins2003,
        "an explicit set is kept"
    );
    assert_eq!(
        Region::Europe.jucker_biome(),
        JuckerBiome::PalearcticTemperateMixed
    );
    assert_eq!(
        Region::NorthAmerica.jucker_biome(),
        JuckerBiome::NearcticTemperateMixed
    );
    for r in Region::ALL {
        assert_eq!(Region::parse(r.name()), Some(r));
    }
    assert_eq!("north-america".parse::<Region>(), Ok(Region::NorthAmerica));
    assert!("mars".parse::<Region>().is_err());
    // The group-level API of `auto` is Jenkins (global), as before regions.
    let j = BiomassEquation::Auto.agb_kg(SpeciesGroup::Pine, 0.4, 30.0, 20.0);
    assert!(close(j, jenkins2003_agb_kg(SpeciesGroup::Pine, 30.0)));
    // Chave through the model keeps the wood density.
    let c = BiomassEquation::Chave2014.agb_kg(SpeciesGroup::Pine, 0.6, 30.0, 20.0);
    assert!(close(c, chave2014_agb_kg(0.6, 30.0, 20.0)));
    let t = AgbModel::for_tree(
        BiomassEquation::Chave2014,
        SpeciesGroup::Pine,
        None,
        GroupSource::Class,
    );
    assert_eq!(t.log_sigma, CHAVE_2014_SIGMA);
}

#[test]
fn species_parse_round_trip() {
    for g in SpeciesGroup::ALL {
        assert_eq!(SpeciesGroup::parse(g.name()), Some(g));
    }
    assert_eq!(SpeciesGroup::parse("Conifer"), Some(SpeciesGroup::Pine));
    assert_eq!(SpeciesGroup::parse("xyz"), None);
}
