//! The reconstructed asset as Bevy meshes: terrain from the DTM, one model per tree (trunk and
//! crown, re-shaped every year of the time-lapse from `simulation.json`), and pipe runs.
//! Everything is placed in cloud-local coordinates (the octree's origin) mapped to Bevy's y-up
//! world, the same frame the point renderer draws in.

use bevy::asset::RenderAssetUsages;
use bevy::math::DVec3;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use growth_model::output::Simulation;
use reconstruct::mesh::{PipeMeshOptions, TerrainMeshOptions, TriMesh};
use reconstruct::model::Reconstruction;

use crate::studio::points_render::local_to_world;
use crate::studio::timelapse::{Timelapse, TreeShape, tree_shape};

/// What the studio shows: the project's reconstruction and simulation, in the cloud's frame.
#[derive(Resource, Clone, Default)]
pub struct SceneData {
    /// Absolute coordinate of local (0, 0, 0) (the cloud's and octree's origin).
    pub origin: [f64; 3],
    pub reconstruction: Option<Reconstruction>,
    pub simulation: Option<Simulation>,
    /// The comparison with the previous survey, for a resurvey project.
    pub resurvey: Option<resurvey::Resurvey>,
}

impl SceneData {
    pub fn to_local(&self, abs: [f64; 3]) -> DVec3 {
        DVec3::from(abs) - DVec3::from(self.origin)
    }
}

/// Which layers are drawn.
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layers {
    pub points: bool,
    pub terrain: bool,
    pub trees: bool,
    pub pipes: bool,
}

impl Default for Layers {
    fn default() -> Self {
        Layers {
            points: true,
            terrain: false,
            trees: false,
            pipes: true,
        }
    }
}

/// A tree model; `index` is the tree's position in `Reconstruction::trees`.
#[derive(Component, Clone, Copy, Debug)]
pub struct TreeModel {
    pub index: usize,
    pub id: u32,
    /// Position in `simulation.trees` (its per-year states), if simulated.
    pub sim_index: Option<usize>,
    pub conifer: bool,
}

#[derive(Component)]
pub struct TreeTrunk;
#[derive(Component)]
pub struct TreeCrown;
#[derive(Component)]
pub struct TerrainModel;
#[derive(Component, Clone, Copy, Debug)]
pub struct PipeModel {
    pub index: usize,
}
/// Everything spawned for the current scene (despawned when another project opens).
#[derive(Component)]
pub struct SceneEntity;

#[derive(Resource)]
struct SceneMaterials {
    trunk: Handle<StandardMaterial>,
    conifer: Handle<StandardMaterial>,
    broadleaf: Handle<StandardMaterial>,
}

pub struct ScenePlugin;

impl Plugin for ScenePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Layers>()
            .add_systems(Startup, setup_materials)
            .add_systems(
                Update,
                (
                    spawn_scene.run_if(resource_exists_and_changed::<SceneData>),
                    apply_layers,
                )
                    .chain(),
            );
    }
}

fn setup_materials(mut commands: Commands, mut materials: ResMut<Assets<StandardMaterial>>) {
    let mat = |c: Color| StandardMaterial {
        base_color: c,
        perceptual_roughness: 0.9,
        ..default()
    };
    commands.insert_resource(SceneMaterials {
        trunk: materials.add(mat(Color::srgb(0.42, 0.30, 0.20))),
        conifer: materials.add(mat(Color::srgb(0.10, 0.34, 0.16))),
        broadleaf: materials.add(mat(Color::srgb(0.22, 0.45, 0.14))),
    });
    commands.spawn((
        DirectionalLight {
            illuminance: 12_000.0,
            shadow_maps_enabled: false,
            ..default()
        },
        Transform::from_xyz(-0.4, 1.0, 0.3).looking_at(Vec3::ZERO, Vec3::Y),
    ));
    commands.insert_resource(GlobalAmbientLight {
        brightness: 250.0,
        ..default()
    });
}

/// Bevy mesh from a reconstruct mesh (local z-up → Bevy y-up).
pub fn bevy_mesh(m: &TriMesh) -> Mesh {
    let pos: Vec<[f32; 3]> = m.positions.iter().map(|p| [p[0], p[2], -p[1]]).collect();
    let nrm: Vec<[f32; 3]> = m.normals.iter().map(|n| [n[0], n[2], -n[1]]).collect();
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::default(),
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, pos)
    .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, nrm)
    .with_inserted_indices(Indices::U32(m.indices.clone()))
}

fn spawn_scene(
    mut commands: Commands,
    scene: Res<SceneData>,
    old: Query<Entity, With<SceneEntity>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mats: Res<SceneMaterials>,
    mut timelapse: ResMut<Timelapse>,
) {
    for e in &old {
        commands.entity(e).despawn();
    }
    let Some(rec) = &scene.reconstruction else {
        return;
    };
    if let Some(dtm) = &rec.dtm
        && !dtm.data.is_empty()
        && let Ok(m) = reconstruct::mesh::terrain(dtm, scene.origin, &TerrainMeshOptions::default())
    {
        commands.spawn((
            Mesh3d(meshes.add(bevy_mesh(&m))),
            MeshMaterial3d(materials.add(StandardMaterial {
                base_color: Color::srgb(0.33, 0.27, 0.19),
                perceptual_roughness: 1.0,
                ..default()
            })),
            TerrainModel,
            SceneEntity,
            Visibility::Hidden,
        ));
    }
    let trunk = meshes.add(Cylinder::new(1.0, 1.0));
    let cone = meshes.add(Cone::new(1.0, 1.0));
    let ball = meshes.add(Sphere::new(1.0).mesh().uv(16, 10));
    let sim_trees = scene.simulation.as_ref().and_then(|s| s.trees.as_ref());
    for (index, t) in rec.trees.iter().enumerate() {
        let sim_index = sim_trees.and_then(|st| st.id.iter().position(|&id| id == t.id));
        // The simulated group when there is one (it follows the user's species), else the
        // reconstruction's own conifer/broadleaf call.
        let conifer = sim_index
            .and_then(|i| sim_trees.map(|st| is_conifer(st.species_group[i])))
            .or_else(|| {
                t.species
                    .as_ref()
                    .map(|s| s.class == reconstruct::SpeciesClass::Conifer)
            })
            .unwrap_or(true);
        let base = scene.to_local([t.x, t.y, t.ground_z]);
        commands
            .spawn((
                TreeModel {
                    index,
                    id: t.id,
                    sim_index,
                    conifer,
                },
                Transform::from_translation(local_to_world(base)),
                Visibility::Hidden,
                SceneEntity,
            ))
            .with_children(|c| {
                c.spawn((
                    Mesh3d(trunk.clone()),
                    MeshMaterial3d(mats.trunk.clone()),
                    Transform::default(),
                    TreeTrunk,
                ));
                c.spawn((
                    Mesh3d(if conifer { cone.clone() } else { ball.clone() }),
                    MeshMaterial3d(if conifer {
                        mats.conifer.clone()
                    } else {
                        mats.broadleaf.clone()
                    }),
                    Transform::default(),
                    TreeCrown,
                ));
            });
    }
    for (index, run) in rec.pipes.iter().enumerate() {
        let m = reconstruct::mesh::pipe_run(run, scene.origin, &PipeMeshOptions::default());
        commands.spawn((
            Mesh3d(meshes.add(bevy_mesh(&m))),
            MeshMaterial3d(materials.add(StandardMaterial {
                base_color: Color::srgb(0.85, 0.55, 0.12),
                metallic: 0.6,
                perceptual_roughness: 0.4,
                ..default()
            })),
            PipeModel { index },
            SceneEntity,
            Visibility::Hidden,
        ));
    }
    timelapse.reset_for(scene.simulation.as_ref());
}

/// Conifers get cone crowns, broadleaves round ones (shape only; allometry is growth-model's).
pub fn is_conifer(g: growth_model::allometry::SpeciesGroup) -> bool {
    use growth_model::allometry::SpeciesGroup::*;
    matches!(g, CedarLarch | DouglasFir | TrueFirHemlock | Pine | Spruce)
}

fn apply_layers(
    layers: Res<Layers>,
    mut terrain: Query<
        &mut Visibility,
        (With<TerrainModel>, Without<TreeModel>, Without<PipeModel>),
    >,
    mut trees: Query<(&mut Visibility, &TreeModel), Without<PipeModel>>,
    mut pipes: Query<&mut Visibility, (With<PipeModel>, Without<TreeModel>)>,
    timelapse: Res<Timelapse>,
    scene: Option<Res<SceneData>>,
    mut parts: Query<
        (&mut Transform, Option<&TreeTrunk>, &ChildOf),
        Or<(With<TreeTrunk>, With<TreeCrown>)>,
    >,
) {
    let vis = |on: bool| {
        if on {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        }
    };
    for mut v in &mut terrain {
        v.set_if_neq(vis(layers.terrain));
    }
    for mut v in &mut pipes {
        v.set_if_neq(vis(layers.pipes));
    }
    let Some(scene) = scene else {
        return;
    };
    let Some(rec) = &scene.reconstruction else {
        return;
    };
    let sim = scene.simulation.as_ref();
    let mut shapes = std::collections::HashMap::new();
    for (mut v, model) in &mut trees {
        let shape = tree_shape(
            &rec.trees[model.index],
            model.sim_index,
            model.conifer,
            sim,
            &timelapse,
        );
        v.set_if_neq(vis(layers.trees && shape.alive));
        shapes.insert(model.index, shape);
    }
    if !layers.trees {
        return;
    }
    for (mut t, trunk, parent) in &mut parts {
        let Ok((_, model)) = trees.get(parent.parent()) else {
            continue;
        };
        let Some(s) = shapes.get(&model.index) else {
            continue;
        };
        let want = if trunk.is_some() {
            trunk_transform(s)
        } else {
            crown_transform(s)
        };
        if *t != want {
            *t = want;
        }
    }
}

/// Trunk from the ground to the top (unit cylinder: radius 1, height 1, centred).
fn trunk_transform(s: &TreeShape) -> Transform {
    // Up into the crown, not through its top.
    let r = (s.dbh_m * 0.5).max(0.02);
    let h = (s.crown_base_m + 0.5 * (s.height_m - s.crown_base_m)).max(0.1);
    Transform::from_xyz(0.0, h * 0.5, 0.0).with_scale(Vec3::new(r, h, r))
}

/// Crown from the crown base to the top (unit cone / sphere).
fn crown_transform(s: &TreeShape) -> Transform {
    let r = (s.crown_diameter_m * 0.5).max(0.1);
    let h = (s.height_m - s.crown_base_m).max(0.2);
    Transform::from_xyz(0.0, s.crown_base_m + h * 0.5, 0.0).with_scale(Vec3::new(
        r,
        if s.conifer { h } else { h * 0.5 },
        r,
    ))
}
