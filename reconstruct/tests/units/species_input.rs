//! Tests of `reconstruct::species_input` (src/species_input.rs).
use reconstruct::model::DbhStatus;
use reconstruct::model::{SpeciesCall, SpeciesClass, SpeciesSource, Tree};
use reconstruct::species_input::*;

fn tree(id: u32, x: f64, p: f64) -> Tree {
    Tree {
        id,
        x,
        y: 0.0,
        ground_z: 0.0,
        height_m: 20.0,
        crown_area_m2: 10.0,
        crown_diameter_m: 3.6,
        crown_base_height_m: None,
        point_count: 10,
        hull: Vec::new(),
        dbh_status: DbhStatus::NotObserved,
        dbh_cm: None,
        dbh_fit_rms_cm: None,
        species: Some(SpeciesCall::from_points(p)),
    }
}

#[test]
fn composition_sets_the_share_and_keeps_the_ranking() {
    // The classifier calls 1 of 5 conifer; the user says 60 % spruce + fir.
    let mut t: Vec<Tree> = [0.9, 0.1, 0.45, 0.3, 0.2]
        .iter()
        .enumerate()
        .map(|(i, &p)| tree(i as u32 + 1, i as f64 * 5.0, p))
        .collect();
    let input = SpeciesInput::Composition {
        shares: vec![
            Share {
                species: "Picea abies".into(),
                class: SpeciesClass::Conifer,
                share: 0.4,
            },
            Share {
                species: "Abies alba".into(),
                class: SpeciesClass::Conifer,
                share: 0.2,
            },
            Share {
                species: "Fagus sylvatica".into(),
                class: SpeciesClass::Broadleaf,
                share: 0.4,
            },
        ],
    };
    input.apply(&mut t).unwrap();
    let class = |i: usize| t[i].species.as_ref().unwrap().class;
    let sp = |i: usize| t[i].species.as_ref().unwrap().species.clone().unwrap();
    // The three most conifer-like (0.9, 0.45, 0.3) become conifers.
    assert_eq!(class(0), SpeciesClass::Conifer);
    assert_eq!(class(2), SpeciesClass::Conifer);
    assert_eq!(class(3), SpeciesClass::Conifer);
    assert_eq!(class(1), SpeciesClass::Broadleaf);
    assert_eq!(class(4), SpeciesClass::Broadleaf);
    assert_eq!(
        (sp(0), sp(2), sp(3)),
        (
            "Picea abies".into(),
            "Picea abies".into(),
            "Abies alba".into()
        )
    );
    assert_eq!(sp(1), "Fagus sylvatica");
    assert!(
        t.iter()
            .all(|x| x.species.as_ref().unwrap().source == SpeciesSource::StandComposition)
    );
}

#[test]
fn field_list_pairs_nearest_within_reach() {
    let mut t = vec![tree(1, 0.0, 0.9), tree(2, 10.0, 0.9)];
    let input = SpeciesInput::FieldList {
        trees: vec![
            FieldTree {
                x: 1.0,
                y: 0.5,
                species: "Quercus rubra".into(),
                class: SpeciesClass::Broadleaf,
            },
            FieldTree {
                x: 20.0,
                y: 0.0,
                species: "Pinus palustris".into(),
                class: SpeciesClass::Conifer,
            },
        ],
        max_distance_m: 3.0,
    };
    input.apply(&mut t).unwrap();
    let a = t[0].species.as_ref().unwrap();
    assert_eq!(
        (a.class, a.source),
        (SpeciesClass::Broadleaf, SpeciesSource::FieldList)
    );
    assert_eq!(a.species.as_deref(), Some("Quercus rubra"));
    // Too far from the second field tree: keeps its own call.
    assert_eq!(t[1].species.as_ref().unwrap().source, SpeciesSource::Points);
    assert!(
        SpeciesInput::Composition { shares: vec![] }
            .apply(&mut t)
            .is_err()
    );
}
