//! TEMPORARY scaffolding — replaced by the mint and credit-officer panels.
use std::path::Path;

use bevy::prelude::*;
use bevy_egui::egui;

use crate::studio::jobs::Errors;

#[derive(Resource, Default)]
pub struct MintPanel;
impl MintPanel {
    pub fn ui(&mut self, ui: &mut egui::Ui, _project: Option<&Path>, _errors: &mut Errors) {
        ui.label("mint");
    }
    pub fn start_dev_chain(&mut self) {}
}
#[derive(Resource, Default)]
pub struct OfficerPanel;
impl OfficerPanel {
    pub fn ui(&mut self, ui: &mut egui::Ui, _project: Option<&Path>, _errors: &mut Errors) {
        ui.label("officer");
    }
}
pub fn poll_panels() {}
