//! The studio's panels (egui): menu and view bar, the surveyor's layers and selection, the
//! finance team's time-lapse and charts, the owner's mint panel, the credit officer's token
//! view, background jobs with progress and cancel, and the error panel.

use std::path::PathBuf;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};
use egui_plot::{FilledArea, Legend, Line, Plot, VLine};
use growth_model::prices::{Market, PriceScenario};

use crate::studio::jobs::{Errors, Jobs, SimulateSettings};
use crate::studio::points::{PointViewSettings, ViewerCloud};
use crate::studio::points_render::{Rasterizer, RasterizerSupport};
use crate::studio::scene::{Layers, SceneData};
use crate::studio::selection::{Measure, Selection};
use crate::studio::timelapse::Timelapse;
use crate::studio::{CameraCommand, FileDialog, StudioState, Tab};
use crate::viewer::colormap::{ClassFilter, ColorMode};

/// Requests the panels make of the rest of the studio (handled by `studio::handle_requests`).
#[derive(Message, Clone, Debug, PartialEq)]
pub enum UiRequest {
    OpenProject(PathBuf),
    /// A survey folder (`twinmint plan`): its tile map, and its merged estate when there is one.
    OpenSurvey(PathBuf),
    /// Run the survey's pending tiles here, merge, open the merged estate.
    RunSurvey(PathBuf),
    ImportScans(Vec<PathBuf>),
    /// New scans of the open project's asset: resurvey it into a new project, then open that.
    Resurvey(Vec<PathBuf>),
    Resimulate(SimulateSettings),
    Camera(CameraCommand),
}

/// What opening `dir` means: a survey folder (it has a `plan.json`) or a project.
pub fn open_request(dir: PathBuf) -> UiRequest {
    if dir.join(survey::PLAN_JSON).is_file() {
        UiRequest::OpenSurvey(dir)
    } else {
        UiRequest::OpenProject(dir)
    }
}

/// Whether egui wants the pointer this frame (so clicks and drags don't reach the viewport).
#[derive(Resource, Default, Clone, Copy)]
pub struct UiCapturesPointer(pub bool);

pub fn panels(
    mut contexts: EguiContexts,
    mut state: ResMut<StudioState>,
    jobs: Res<Jobs>,
    mut errors: ResMut<Errors>,
    mut layers: ResMut<Layers>,
    mut settings: ResMut<PointViewSettings>,
    mut timelapse: ResMut<Timelapse>,
    mut measure: ResMut<Measure>,
    selection: Res<Selection>,
    support: Res<RasterizerSupport>,
    scene: Option<Res<SceneData>>,
    cloud: Option<ResMut<ViewerCloud>>,
    dialog: Res<FileDialog>,
    mut requests: MessageWriter<UiRequest>,
    mut captures: ResMut<UiCapturesPointer>,
    mut extra: crate::studio::PanelExtras,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    let mut cloud = cloud;
    let mut root = egui::Ui::new(
        ctx.clone(),
        "studio".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );

    let top = egui::Panel::top("menu").show(&mut root, |ui| {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open project or survey…").clicked() {
                    if let Some(p) = dialog.0.pick_folder("Open a TwinMint project or survey") {
                        requests.write(open_request(p));
                    }
                    ui.close();
                }
                if ui.button("Import scans…").clicked() {
                    let files = dialog
                        .0
                        .pick_files("Import scans (LAS, LAZ, E57, PLY, XYZ, OBJ)");
                    if !files.is_empty() {
                        requests.write(UiRequest::ImportScans(files));
                    }
                    ui.close();
                }
                if ui
                    .add_enabled(
                        state.project().is_some(),
                        egui::Button::new("Resurvey with new scans…"),
                    )
                    .on_hover_text(
                        "Co-register new scans of this asset to it, compare, re-project (twinmint resurvey)",
                    )
                    .clicked()
                {
                    let files = dialog.0.pick_files("New scans of the same asset");
                    if !files.is_empty() {
                        requests.write(UiRequest::Resurvey(files));
                    }
                    ui.close();
                }
            });
            ui.separator();
            for tab in Tab::ALL {
                ui.selectable_value(&mut state.tab, tab, tab.label());
            }
            ui.separator();
            if ui.button("Reset view").clicked() {
                requests.write(UiRequest::Camera(CameraCommand::Reset));
            }
            let has_sel = *selection != Selection::None;
            if ui
                .add_enabled(has_sel, egui::Button::new("Focus selection"))
                .clicked()
            {
                requests.write(UiRequest::Camera(CameraCommand::FocusSelection));
            }
        });
    });

    let top = top.response.rect.height();
    let bottom = egui::Panel::bottom("status").show(&mut root, |ui| {
        for job in &jobs.running {
            let (stage, f) = job.progress();
            ui.horizontal(|ui| {
                ui.label(&job.label);
                ui.add(egui::ProgressBar::new(f).text(format!("{stage} {:.0}%", f * 100.0)).desired_width(320.0));
                if ui.button("Cancel").clicked() {
                    job.cancel();
                }
            });
        }
        if !errors.0.is_empty() {
            ui.separator();
            let mut dismiss = None;
            for (i, e) in errors.0.iter().enumerate() {
                ui.horizontal(|ui| {
                    ui.colored_label(egui::Color32::from_rgb(240, 90, 80), format!("✖ {}: {}", e.source, e.message));
                    if ui.small_button("Dismiss").clicked() {
                        dismiss = Some(i);
                    }
                });
            }
            if let Some(i) = dismiss {
                errors.0.remove(i);
            }
        }
        ui.horizontal(|ui| {
            match &cloud {
                Some(c) => {
                    let s = c.stats;
                    ui.label(format!(
                        "{} — {:.2} M points drawn of {:.2} M in {} nodes; LOD {:.2} ms; {} loading",
                        state.opened.as_ref().map_or("", |p| p.name.as_str()),
                        s.drawn_points as f64 / 1e6,
                        c.octree.total_points as f64 / 1e6,
                        s.selected_nodes,
                        s.select_ms,
                        s.pending_nodes
                    ));
                }
                None => {
                    ui.label("No project open: File > Open project… or drop scans on the window.");
                }
            }
            ui.separator();
            let raster = match (settings.0.rasterizer, support.compute) {
                (Rasterizer::Quads, _) | (_, false) => "quads",
                _ => "compute (64-bit atomics)",
            };
            ui.label(format!("rasteriser: {raster}"));
        });
    });

    let bottom = bottom.response.rect.height();
    let left = egui::Panel::left("side")
        .default_size(400.0)
        .min_size(340.0)
        .show(&mut root, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| match state.tab {
                Tab::Survey => {
                    if let Some(r) = extra.survey_panel(ui, jobs.is_busy()) {
                        requests.write(r);
                    }
                    survey_panel(
                        ui,
                        &mut layers,
                        &mut settings,
                        cloud.as_deref_mut(),
                        &support,
                        &mut measure,
                        &selection,
                        scene.as_deref(),
                    )
                }
                Tab::Growth => growth_panel(
                    ui,
                    scene.as_deref(),
                    &mut timelapse,
                    &mut state,
                    &mut requests,
                    jobs.is_busy(),
                ),
                Tab::Mint => extra.mint_panel(ui, state.project(), &mut errors),
                Tab::Credit => extra.officer_panel(ui, state.project(), &mut errors),
            });
        });

    // Time-lapse hides vegetation points so grown tree models stand alone.
    if let Some(c) = cloud.as_deref_mut() {
        let want = if state.tab == Tab::Growth && layers.trees {
            ClassFilter::terrain_and_structures()
        } else {
            ClassFilter::default()
        };
        if c.filter != want {
            c.filter = want;
        }
    }
    let left = left.response.rect.width();
    extra.set_viewport(left, top, bottom);
    captures.0 = ctx.egui_wants_pointer_input() || ctx.is_pointer_over_egui();
    Ok(())
}

/// The survey side panel: layers, point styling, measuring and the selected object.
pub fn survey_panel(
    ui: &mut egui::Ui,
    layers: &mut Layers,
    settings: &mut PointViewSettings,
    cloud: Option<&mut ViewerCloud>,
    support: &RasterizerSupport,
    measure: &mut Measure,
    selection: &Selection,
    scene: Option<&SceneData>,
) {
    ui.heading("Layers");
    ui.checkbox(&mut layers.points, "Point cloud");
    ui.checkbox(&mut layers.terrain, "Terrain model");
    ui.checkbox(&mut layers.trees, "Tree models");
    ui.checkbox(&mut layers.pipes, "Pipes");
    ui.separator();
    ui.heading("Points");
    if let Some(c) = cloud {
        egui::ComboBox::from_label("Colour by")
            .selected_text(c.mode.label())
            .show_ui(ui, |ui| {
                for m in ColorMode::ALL {
                    let has = c.has(m);
                    ui.add_enabled_ui(has, |ui| {
                        ui.selectable_value(&mut c.mode, m, m.label())
                            .on_disabled_hover_text("the scan has no such attribute");
                    });
                }
            });
        let mut budget_m = c.budget as f64 / 1e6;
        if ui
            .add(egui::Slider::new(&mut budget_m, 0.2..=10.0).text("Point budget (M)"))
            .changed()
        {
            c.budget = (budget_m * 1e6) as u64;
        }
    }
    ui.add(
        egui::Slider::new(&mut settings.0.point_size, 1.0..=8.0)
            .step_by(1.0)
            .text("Point size (px)"),
    );
    ui.add(egui::Slider::new(&mut settings.0.edl_strength, 0.0..=2.0).text("Eye-Dome Lighting"));
    ui.horizontal(|ui| {
        ui.label("Rasteriser");
        ui.selectable_value(&mut settings.0.rasterizer, Rasterizer::Auto, "Auto");
        ui.selectable_value(&mut settings.0.rasterizer, Rasterizer::Quads, "Quads");
        ui.add_enabled_ui(support.compute, |ui| {
            ui.selectable_value(&mut settings.0.rasterizer, Rasterizer::Compute, "Compute");
        });
    });
    ui.separator();
    ui.heading("Measure");
    ui.checkbox(&mut measure.active, "Click two points to measure");
    if let Some(d) = measure.distance() {
        ui.label(format!(
            "slope {:.2} m · horizontal {:.2} m · vertical {:+.2} m",
            d.slope_m, d.horizontal_m, d.vertical_m
        ));
    } else if measure.active {
        ui.label(if measure.a.is_some() {
            "pick the second point"
        } else {
            "pick the first point"
        });
    }
    ui.separator();
    ui.heading("Selection");
    let rec = scene.and_then(|s| s.reconstruction.as_ref());
    match (selection, rec) {
        (Selection::Tree(i), Some(rec)) if *i < rec.trees.len() => {
            let t = &rec.trees[*i];
            egui::Grid::new("tree").num_columns(2).show(ui, |ui| {
                let mut row = |k: &str, v: String| {
                    ui.label(k);
                    ui.label(v);
                    ui.end_row();
                };
                row("Tree", format!("#{}", t.id));
                row("Height", format!("{:.2} m", t.height_m));
                row("Crown diameter", format!("{:.2} m", t.crown_diameter_m));
                row("Crown area", format!("{:.1} m²", t.crown_area_m2));
                row(
                    "DBH",
                    match t.dbh_cm {
                        Some(d) => format!(
                            "{d:.1} cm (fitted, RMS {:.1} cm)",
                            t.dbh_fit_rms_cm.unwrap_or(0.0)
                        ),
                        None => "not observed (predicted by the growth model)".into(),
                    },
                );
                row("Points", t.point_count.to_string());
                row("Position", format!("{:.2} E, {:.2} N", t.x, t.y));
                if let Some(c) = &t.species {
                    row(
                        "Class",
                        format!(
                            "{}{} (p conifer {:.2}, {})",
                            c.class.name(),
                            c.species
                                .as_deref()
                                .map(|s| format!(" · {s}"))
                                .unwrap_or_default(),
                            c.p_conifer,
                            species_source(c.source)
                        ),
                    );
                }
                let inv = scene
                    .and_then(|s| s.simulation.as_ref())
                    .and_then(|s| s.inventory.as_ref())
                    .and_then(|inv| inv.tree(t.id));
                if let Some(r) = inv {
                    row(
                        "Group",
                        format!("{} ({})", r.species_group.name(), r.group_source.describe()),
                    );
                    row(
                        "AGB at survey",
                        format!(
                            "{:.0} kg ± {:.0} (90 %: {:.0}–{:.0})",
                            r.agb_kg, r.agb_sd_kg, r.agb_p05_kg, r.agb_p95_kg
                        ),
                    );
                    row(
                        "Carbon at survey",
                        format!("{:.0} kg C · {:.0} kg CO2e", r.carbon_kg, r.co2e_kg),
                    );
                    row(
                        "Biomass from",
                        format!(
                            "{} · DBH {:.1} cm {}",
                            r.equation,
                            r.dbh_cm,
                            if r.dbh_observed {
                                "observed"
                            } else {
                                "predicted (Jucker 2017)"
                            }
                        ),
                    );
                }
            });
        }
        (Selection::Pipe(i), Some(rec)) if *i < rec.pipes.len() => {
            let p = &rec.pipes[*i];
            egui::Grid::new("pipe").num_columns(2).show(ui, |ui| {
                let mut row = |k: &str, v: String| {
                    ui.label(k);
                    ui.label(v);
                    ui.end_row();
                };
                row("Pipe run", format!("#{}", p.id));
                row("Length", format!("{:.2} m", p.length_m));
                row("Diameter", format!("{:.0} mm", p.radius_m * 2000.0));
                row("Segments", p.segments.len().to_string());
            });
        }
        _ => {
            ui.label("Click a tree or pipe in the view.");
        }
    }
}

fn species_source(s: reconstruct::model::SpeciesSource) -> &'static str {
    match s {
        reconstruct::model::SpeciesSource::Points => "from the points",
        reconstruct::model::SpeciesSource::StandComposition => "stand composition",
        reconstruct::model::SpeciesSource::FieldList => "field list",
    }
}

fn growth_panel(
    ui: &mut egui::Ui,
    scene: Option<&SceneData>,
    tl: &mut Timelapse,
    state: &mut StudioState,
    requests: &mut MessageWriter<UiRequest>,
    busy: bool,
) {
    let Some(sim) = scene.and_then(|s| s.simulation.as_ref()) else {
        ui.label("No simulation for this project yet (twinmint simulate).");
        return;
    };
    if let Some(r) = scene.and_then(|s| s.resurvey.as_ref()) {
        survey_timeline(ui, r, sim);
        ui.separator();
    }
    ui.heading("Growth time-lapse");
    ui.horizontal(|ui| {
        if ui
            .button(if tl.playing { "⏸ Pause" } else { "▶ Play" })
            .clicked()
        {
            tl.toggle_play();
        }
        ui.add(egui::Slider::new(&mut tl.speed, 0.5..=10.0).text("years/s"));
        ui.checkbox(&mut tl.looping, "Loop");
    });
    if let (Some(&first), Some(&last)) = (tl.years.first(), tl.years.last()) {
        let mut year = tl.year().unwrap_or(first);
        if ui
            .add(egui::Slider::new(&mut year, first..=last).text("Year"))
            .changed()
        {
            tl.playing = false;
            tl.set_year(year);
        }
    }
    let (i, _) = tl.index_frac();
    let st = &sim.stand;
    let cursor = tl.years.get(i).copied().unwrap_or(0) as f64 + tl.index_frac().1 as f64;
    if let Some(rep) = st.representative.stems_alive.get(i) {
        ui.label(format!(
            "{}: {:.0} t CO2e (P10 {:.0} – P90 {:.0}), {rep:.0} stems",
            tl.year().unwrap_or(0),
            st.stock_co2e_t.p50.get(i).unwrap_or(&0.0),
            st.stock_co2e_t.p10.get(i).unwrap_or(&0.0),
            st.stock_co2e_t.p90.get(i).unwrap_or(&0.0),
        ));
    }
    let xs: Vec<f64> = st.year.iter().map(|&y| y as f64).collect();
    let band_plot = |ui: &mut egui::Ui,
                     id: &str,
                     title: &str,
                     band: &growth_model::output::Band,
                     color: egui::Color32| {
        ui.label(title);
        Plot::new(id.to_string())
            .height(170.0)
            .legend(Legend::default())
            .allow_scroll(false)
            .show(ui, |p| {
                p.add(
                    FilledArea::new("P10–P90", &xs, &band.p10, &band.p90)
                        .fill_color(color.gamma_multiply(0.25)),
                );
                let pts: Vec<[f64; 2]> = xs.iter().zip(&band.p50).map(|(&x, &y)| [x, y]).collect();
                p.line(Line::new("P50", pts).color(color));
                p.vline(VLine::new("year", cursor).color(egui::Color32::YELLOW));
            });
    };
    band_plot(
        ui,
        "stock",
        "Carbon stock (t CO2e)",
        &st.stock_co2e_t,
        egui::Color32::from_rgb(80, 190, 110),
    );
    band_plot(
        ui,
        "value",
        &format!("Credit value per year ({})", st.currency),
        &st.value,
        egui::Color32::from_rgb(90, 150, 240),
    );
    ui.separator();
    ui.heading("Value");
    let v = &sim.valuation;
    ui.label(format!(
        "Price anchor {:.2} {}/t (mean of the 12 months to {}); NPV P50 {:.0} {} (P10 {:.0} – P90 {:.0})",
        v.price_anchor_per_t, v.currency, v.price_latest_month, v.npv.p50, v.currency, v.npv.p10, v.npv.p90
    ));
    let c = &sim.collateral;
    let l = &c.liquidation;
    ui.label(format!(
        "Collateral value {:.0} {}; loan {:.0} at grade {} (max LTV {:.0}%); liquidation if the price falls below {:.2}/t ({:.0}% below today)",
        c.value,
        c.currency,
        l.loan,
        l.grade,
        l.max_ltv * 100.0,
        l.breach_price_per_t,
        l.margin_fraction * 100.0
    ));
    ui.separator();
    ui.heading("Scenario");
    let s = &mut state.simulate;
    ui.horizontal(|ui| {
        ui.label("Price anchor");
        ui.selectable_value(&mut s.market, Market::Cea, "China ETS (CEA)");
        ui.selectable_value(&mut s.market, Market::Eua, "EU ETS (EUA)");
    });
    ui.horizontal(|ui| {
        ui.label("Scenario");
        let flat = matches!(s.scenario, PriceScenario::Flat);
        let esc = matches!(s.scenario, PriceScenario::Escalating { .. });
        if ui.selectable_label(flat, "Flat").clicked() {
            s.scenario = PriceScenario::Flat;
        }
        if ui.selectable_label(esc, "Escalating 3%/yr").clicked() {
            s.scenario = PriceScenario::Escalating { pct_per_year: 3.0 };
        }
        if ui.selectable_label(!flat && !esc, "Stochastic").clicked() {
            s.scenario = PriceScenario::stochastic();
        }
    });
    if ui
        .add_enabled(!busy, egui::Button::new("Re-run simulation"))
        .clicked()
    {
        requests.write(UiRequest::Resimulate(s.clone()));
    }
}

/// Colour of the measured surveys on the timeline chart.
pub const SURVEY_COLOUR: egui::Color32 = egui::Color32::from_rgb(230, 40, 200);
/// Colour of the previous projection's band at the resurvey.
pub const PROJECTED_COLOUR: egui::Color32 = egui::Color32::from_rgb(250, 150, 30);

/// A resurvey project's timeline: both surveys, the drift between them, collateral and LTV
/// then and now, and a chart of the measured stocks against the previous projection's band at
/// the resurvey and the new projection onward.
pub fn survey_timeline(ui: &mut egui::Ui, r: &resurvey::Resurvey, sim: &growth_model::Simulation) {
    ui.heading("Survey timeline");
    let date = |s: &Option<String>| {
        s.as_deref()
            .map(|d| d[..d.len().min(10)].to_string())
            .unwrap_or_default()
    };
    ui.label(format!(
        "Survey 1 — {} {}: {} trees, {:.0} t CO2e",
        r.previous.project,
        date(&r.previous.capture_start),
        r.previous.trees,
        r.stand.co2e_before_t
    ));
    ui.label(format!(
        "Survey 2 — {} {}: {} trees, {:.0} t CO2e",
        r.current.project,
        date(&r.current.capture_start),
        r.current.trees,
        r.stand.co2e_t
    ));
    let d = &r.drift;
    ui.label(format!(
        "Drift after {:.1} years: growth {}, stock {} (projected {:.0}–{:.0} t); value at stake {:+.0} {}",
        r.elapsed_years,
        d.growth.flag.label(),
        d.stock.flag.label(),
        d.stock.projected_co2e_t.p10,
        d.stock.projected_co2e_t.p90,
        d.stock.value_at_stake,
        d.stock.currency
    ));
    ui.label(format!(
        "Change: {} survivors, {} removed, {} dead, {} new; canopy loss {:.0} m²",
        r.stand.survivors,
        r.stand.removed,
        r.stand.standing_dead,
        r.stand.ingrowth + r.stand.newly_detected,
        r.canopy_loss.area_m2
    ));
    let c = &r.collateral;
    let (then, now) = c.ltv();
    let pct = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{:.0}%", v * 100.0));
    ui.label(format!(
        "Collateral then {:.0}, now {:.0} {}; LTV then {}, now {} (loan {:.0})",
        c.value_before,
        c.value_now,
        c.currency,
        pct(then),
        pct(now),
        c.loan
    ));
    let y0 = sim.stand.year.first().copied().unwrap_or(0) as f64 - r.elapsed_years;
    let y1 = y0 + r.elapsed_years;
    let band = &d.stock.projected_co2e_t;
    let next: Vec<[f64; 2]> = sim
        .stand
        .year
        .iter()
        .zip(&sim.stand.stock_co2e_t.p50)
        .map(|(&y, &v)| [y as f64, v])
        .collect();
    Plot::new("timeline")
        .height(170.0)
        .legend(Legend::default())
        .allow_scroll(false)
        .show(ui, |p| {
            p.line(
                Line::new(
                    "projected at survey 1 (P10–P90)",
                    vec![[y1, band.p10], [y1, band.p90]],
                )
                .color(PROJECTED_COLOUR)
                .width(6.0),
            );
            p.line(
                Line::new("projection from survey 2 (P50)", next)
                    .color(egui::Color32::from_rgb(80, 190, 110)),
            );
            p.points(
                egui_plot::Points::new(
                    "measured",
                    vec![[y0, r.stand.co2e_before_t], [y1, r.stand.co2e_t]],
                )
                .radius(6.0)
                .color(SURVEY_COLOUR),
            );
        });
}
