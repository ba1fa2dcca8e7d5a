//! The owner's mint panel and the credit officer's token panel: egui views over the state
//! machines in `mint_flow` and `officer`, with their workers polled once a frame.

use crate::studio::error::{StudioError, StudioResult};
use capture::CancelToken;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::JoinHandle;

use bevy::prelude::*;
use bevy_egui::egui;

use crate::studio::jobs::Errors;
use crate::studio::mint_flow::{
    DevChainHandle, DevChainInfo, MintFlow, MintJob, MintStep, Network, PackagePreview,
    WalletChoice, start_dev_chain,
};
use crate::studio::officer::{OfficerJob, OfficerReport, TokenQuery};

const GREEN: egui::Color32 = egui::Color32::from_rgb(90, 200, 110);
const RED: egui::Color32 = egui::Color32::from_rgb(240, 90, 80);

/// Which kind of wallet the panel's selector shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WalletKind {
    #[default]
    Dev,
    Keystore,
    Env,
    Browser,
    Ledger,
}

/// The dev chain the studio runs for minting without real funds.
#[derive(Default)]
pub enum DevChainState {
    #[default]
    Off,
    Starting(JoinHandle<StudioResult<(DevChainHandle, DevChainInfo)>>),
    Running(Box<(DevChainHandle, DevChainInfo)>),
    Failed(String),
}

impl DevChainState {
    pub fn info(&self) -> Option<&DevChainInfo> {
        match self {
            DevChainState::Running(r) => Some(&r.1),
            _ => None,
        }
    }
}

/// Which chain a panel talks to: the studio's dev chain, or any RPC with a deployed contract.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainForm {
    pub use_rpc: bool,
    pub rpc_url: String,
    pub chain_id: String,
    pub contract: String,
}

impl ChainForm {
    /// The network the form describes.
    pub fn network(&self) -> StudioResult<Network> {
        if !self.use_rpc {
            return Ok(Network::DevChain);
        }
        Ok(Network::Rpc {
            url: self.rpc_url.trim().to_string(),
            chain_id: self
                .chain_id
                .trim()
                .parse()
                .map_err(|_| format!("chain id {:?} is not a number", self.chain_id))?,
            contract: self.contract.trim().to_string(),
        })
    }

    fn choice_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.radio_value(&mut self.use_rpc, false, "Local dev chain");
            ui.radio_value(&mut self.use_rpc, true, "RPC URL");
        });
    }

    /// The RPC rows of a two-column grid (nothing on the dev chain).
    fn rows_ui(&mut self, ui: &mut egui::Ui) {
        if !self.use_rpc {
            return;
        }
        for (label, value) in [
            ("RPC URL", &mut self.rpc_url),
            ("Chain id", &mut self.chain_id),
            ("Contract", &mut self.contract),
        ] {
            ui.label(label);
            ui.text_edit_singleline(value);
            ui.end_row();
        }
    }
}

/// The mint panel's state.
#[derive(Resource, Default)]
pub struct MintPanel {
    pub flow: MintFlow,
    /// The running mint (a Mutex only to make the worker's channel `Sync` for Bevy).
    pub job: Option<Mutex<MintJob>>,
    pub cancel: CancelToken,
    pub dev: DevChainState,
    pub wallet_kind: WalletKind,
    pub dev_account: u32,
    pub keystore_path: String,
    pub keystore_password: String,
    pub key_env: String,
    pub ledger_index: usize,
    pub chain: ChainForm,
    pub recipient: String,
    /// The project whose package preview was last looked for (read once, not every frame).
    preview_of: Option<PathBuf>,
}

impl MintPanel {
    /// Start anvil and deploy the contract in the background.
    pub fn start_dev_chain(&mut self) {
        if matches!(self.dev, DevChainState::Off | DevChainState::Failed(_)) {
            self.dev = match std::thread::Builder::new()
                .name("twinmint-dev-chain".into())
                .spawn(start_dev_chain)
            {
                Ok(h) => DevChainState::Starting(h),
                Err(e) => DevChainState::Failed(e.to_string()),
            };
        }
    }

    /// Build the wallet and network choice from the form fields.
    pub fn settings(&self) -> StudioResult<(WalletChoice, Network)> {
        let wallet = match self.wallet_kind {
            WalletKind::Dev => WalletChoice::DevAccount(self.dev_account),
            WalletKind::Keystore => WalletChoice::Keystore {
                path: PathBuf::from(self.keystore_path.trim()),
                password: self.keystore_password.clone(),
            },
            WalletKind::Env => WalletChoice::PrivateKeyEnv(self.key_env.trim().to_string()),
            WalletKind::Browser => WalletChoice::Browser,
            WalletKind::Ledger => WalletChoice::Ledger {
                index: self.ledger_index,
            },
        };
        Ok((wallet, self.chain.network()?))
    }

    /// Start the mint for `project` with the form's settings.
    pub fn start(&mut self, project: &Path) -> StudioResult<()> {
        let (wallet, network) = self.settings()?;
        self.flow.wallet = wallet;
        self.flow.network = network;
        self.flow.recipient = Some(self.recipient.trim().to_string()).filter(|s| !s.is_empty());
        let ready = project
            .join(reconstruct::pipeline::RECONSTRUCTION_JSON)
            .is_file();
        self.flow.begin(ready)?;
        self.cancel = CancelToken::new();
        self.job = Some(Mutex::new(MintJob::start(
            project.to_path_buf(),
            self.flow.clone(),
            self.dev.info().cloned(),
            self.cancel.clone(),
        )));
        Ok(())
    }

    /// Apply the worker's events and finish the dev chain's start.
    pub fn poll(&mut self) {
        if let Some(job) = &self.job {
            let job = job.lock().expect("mint job lock");
            for ev in job.poll() {
                self.flow.apply(ev);
            }
            let finished = job.is_finished();
            if finished {
                for ev in job.poll() {
                    self.flow.apply(ev);
                }
            }
            drop(job);
            if finished {
                self.job = None;
            }
        }
        if matches!(&self.dev, DevChainState::Starting(h) if h.is_finished()) {
            let DevChainState::Starting(h) = std::mem::take(&mut self.dev) else {
                unreachable!("checked above")
            };
            self.dev = match h.join() {
                Ok(Ok(running)) => DevChainState::Running(Box::new(running)),
                Ok(Err(e)) => DevChainState::Failed(e.display()),
                Err(_) => DevChainState::Failed("the dev chain thread panicked".into()),
            };
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, project: Option<&Path>, errors: &mut Errors) {
        ui.heading("Network");
        self.chain.choice_ui(ui);
        if self.chain.use_rpc {
            egui::Grid::new("rpc")
                .num_columns(2)
                .show(ui, |ui| self.chain.rows_ui(ui));
        } else {
            match &self.dev {
                DevChainState::Off => {
                    if ui.button("Start dev chain (anvil)").clicked() {
                        self.start_dev_chain();
                    }
                }
                DevChainState::Starting(_) => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("starting anvil and deploying TwinMintNFR…");
                    });
                }
                DevChainState::Running(running) => {
                    let info = &running.1;
                    ui.label(format!(
                        "{} · chain {} · contract {}",
                        info.rpc_url, info.chain_id, info.contract
                    ));
                }
                DevChainState::Failed(e) => {
                    ui.colored_label(RED, format!("dev chain: {e}"));
                    if ui.button("Retry").clicked() {
                        self.start_dev_chain();
                    }
                }
            }
        }
        ui.separator();
        ui.heading("Wallet");
        ui.horizontal_wrapped(|ui| {
            ui.selectable_value(&mut self.wallet_kind, WalletKind::Dev, "Dev account");
            ui.selectable_value(&mut self.wallet_kind, WalletKind::Keystore, "Keystore");
            ui.selectable_value(&mut self.wallet_kind, WalletKind::Env, "Key in env");
            ui.selectable_value(&mut self.wallet_kind, WalletKind::Browser, "Browser wallet");
            ui.selectable_value(&mut self.wallet_kind, WalletKind::Ledger, "Ledger");
        });
        match self.wallet_kind {
            WalletKind::Dev => {
                ui.add(egui::Slider::new(&mut self.dev_account, 0..=4).text("dev account"));
            }
            WalletKind::Keystore => {
                ui.horizontal(|ui| {
                    ui.label("File");
                    ui.text_edit_singleline(&mut self.keystore_path);
                });
                ui.horizontal(|ui| {
                    ui.label("Password");
                    ui.add(egui::TextEdit::singleline(&mut self.keystore_password).password(true));
                });
            }
            WalletKind::Env => {
                ui.horizontal(|ui| {
                    ui.label("Variable");
                    ui.text_edit_singleline(&mut self.key_env);
                });
            }
            WalletKind::Browser => {
                ui.label("The mint opens a local page that hands the transaction to your browser wallet.");
            }
            WalletKind::Ledger => {
                ui.add(
                    egui::Slider::new(&mut self.ledger_index, 0..=9).text("Ledger Live account"),
                );
            }
        }
        ui.horizontal(|ui| {
            ui.label("Mint to");
            ui.add(
                egui::TextEdit::singleline(&mut self.recipient)
                    .hint_text("the wallet's own address"),
            );
        });
        ui.separator();
        ui.heading("Package");
        if let Some(fp) = &self.flow.fingerprint {
            ui.label(format!("fingerprint {fp}"));
        }
        if self.preview_of.as_deref() != project {
            self.preview_of = project.map(Path::to_path_buf);
            self.flow.package = project
                .and_then(|p| PackagePreview::read(&p.join(mint::package::PACKAGE_DIR)).ok());
        }
        match &self.flow.package {
            Some(p) => {
                ui.label(egui::RichText::new(&p.name).strong());
                ui.label(format!("token URI {}", p.token_uri));
                egui::Grid::new("files")
                    .num_columns(3)
                    .striped(true)
                    .show(ui, |ui| {
                        for f in &p.files {
                            ui.label(&f.name);
                            ui.label(format!("{} B", f.bytes));
                            ui.label(egui::RichText::new(short(&f.cid)).monospace());
                            ui.end_row();
                        }
                    });
                egui::CollapsingHeader::new("Attributes").show(ui, |ui| {
                    for (k, v) in &p.attributes {
                        ui.label(format!("{k}: {v}"));
                    }
                });
            }
            None => {
                ui.label("No package yet: minting builds it (fingerprint, metadata, thumbnail, model, report).");
            }
        }
        ui.separator();
        ui.heading("Mint");
        let running = self.job.is_some();
        ui.horizontal(|ui| {
            let can =
                project.is_some() && !running && !matches!(self.flow.step, MintStep::Minted { .. });
            if ui
                .add_enabled(can, egui::Button::new("Mint to wallet"))
                .clicked()
                && let Some(p) = project
                && let Err(e) = self.start(p)
            {
                errors.push("Mint", e);
            }
            if running && ui.button("Cancel").clicked() {
                self.cancel.cancel();
            }
            if !running && !matches!(self.flow.step, MintStep::Idle) && ui.button("Reset").clicked()
            {
                self.flow.reset();
            }
        });
        match &self.flow.step {
            MintStep::Minted {
                token_id,
                tx,
                block,
                status,
            } => {
                ui.colored_label(GREEN, format!("token #{token_id} — {status}"));
                if let Some(tx) = tx {
                    ui.label(format!("tx {tx}"));
                }
                if let Some(b) = block {
                    ui.label(format!("block {b}"));
                }
            }
            MintStep::Failed { during, error } => {
                ui.colored_label(RED, format!("failed while {during}: {error}"));
            }
            MintStep::Idle => {}
            s => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(s.label());
                });
            }
        }
        if let Some(url) = &self.flow.wallet_url {
            ui.hyperlink_to("Approve in your browser wallet", url);
        }
        egui::CollapsingHeader::new("Log").show(ui, |ui| {
            for l in &self.flow.log {
                ui.label(l);
            }
        });
    }
}

/// The credit officer's panel: open a token, verify it, inspect, export.
#[derive(Resource, Default)]
pub struct OfficerPanel {
    pub token: String,
    pub chain: ChainForm,
    pub package: String,
    /// A reader's keystore, to open a sealed package (`PROJECT/sealed`).
    pub reader_keystore: String,
    /// Its password (kept only while the panel is open; never written anywhere).
    pub reader_password: String,
    pub job: Option<Mutex<OfficerJob>>,
    pub cancel: CancelToken,
    pub report: Option<OfficerReport>,
    pub exported: Option<PathBuf>,
    /// A disclosure proof file to check against the token, and the verdict.
    pub proof: String,
    pub proof_result: Option<Result<String, String>>,
    /// The dev chain as the mint panel started it (copied in each frame).
    pub dev: Option<DevChainInfo>,
}

impl OfficerPanel {
    pub fn query(&self, project: Option<&Path>) -> StudioResult<TokenQuery> {
        let token_id = self
            .token
            .trim()
            .trim_start_matches('#')
            .parse()
            .map_err(|_| format!("token id {:?} is not a number", self.token))?;
        let target = self.chain.network()?.resolve(self.dev.as_ref())?;
        let package = Some(self.package.trim())
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .or_else(|| project.map(|p| p.join(mint::package::PACKAGE_DIR)));
        let reader = match self.reader_keystore.trim() {
            "" => None,
            path => {
                let w = mint::chain::Wallet::from_keystore(path, &self.reader_password)
                    .map_err(|e| StudioError::Input(format!("reader key: {e}")))?;
                let k = w
                    .secret_key()
                    .map_err(|e| StudioError::Input(format!("reader key: {e}")))?;
                Some(crate::studio::officer::ReaderKey(std::sync::Arc::new(k)))
            }
        };
        Ok(TokenQuery {
            target,
            token_id,
            package,
            project: project.map(Path::to_path_buf),
            reader,
        })
    }

    /// Fetch and verify the token in the form on a worker thread.
    pub fn open(&mut self, project: Option<&Path>) -> StudioResult<()> {
        let q = self.query(project)?;
        self.cancel = CancelToken::new();
        self.report = None;
        self.exported = None;
        self.job = Some(Mutex::new(OfficerJob::start(q, self.cancel.clone())));
        Ok(())
    }

    pub fn poll(&mut self, errors: &mut Errors) {
        let done = self
            .job
            .as_ref()
            .and_then(|j| j.lock().expect("officer job lock").poll());
        if let Some(r) = done {
            self.job = None;
            match r {
                Ok(rep) => self.report = Some(rep),
                Err(e) => errors.push("Credit officer", e),
            }
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, project: Option<&Path>, errors: &mut Errors) {
        ui.heading("Open a token");
        self.chain.choice_ui(ui);
        egui::Grid::new("officer").num_columns(2).show(ui, |ui| {
            ui.label("Token id");
            ui.text_edit_singleline(&mut self.token);
            ui.end_row();
            self.chain.rows_ui(ui);
            ui.label("Package");
            ui.add(
                egui::TextEdit::singleline(&mut self.package)
                    .hint_text("the open project's package/ (or sealed/)"),
            );
            ui.end_row();
            ui.label("Reader keystore");
            ui.add(
                egui::TextEdit::singleline(&mut self.reader_keystore)
                    .hint_text("for a sealed package: your key's JSON keystore"),
            );
            ui.end_row();
            ui.label("Password");
            ui.add(egui::TextEdit::singleline(&mut self.reader_password).password(true));
            ui.end_row();
        });
        ui.horizontal(|ui| {
            if ui
                .add_enabled(self.job.is_none(), egui::Button::new("Open & verify"))
                .clicked()
            {
                match self.query(project) {
                    Ok(q) => {
                        self.cancel = CancelToken::new();
                        self.report = None;
                        self.exported = None;
                        self.job = Some(Mutex::new(OfficerJob::start(q, self.cancel.clone())));
                    }
                    Err(e) => errors.push("Credit officer", e),
                }
            }
            if self.job.is_some() {
                ui.spinner();
                if ui.button("Cancel").clicked() {
                    self.cancel.cancel();
                }
            }
        });
        let Some(r) = &self.report else {
            return;
        };
        ui.separator();
        let (c, verdict) = if r.verified {
            (GREEN, "VERIFIED")
        } else {
            (RED, "NOT VERIFIED")
        };
        ui.colored_label(
            c,
            egui::RichText::new(format!("Token #{} — {verdict}", r.token_id)).strong(),
        );
        ui.label(format!(
            "{} (chain {}) · contract {}",
            r.network, r.chain_id, r.contract
        ));
        ui.label(format!("owner {}", r.owner));
        ui.label(format!("fingerprint {}", r.fingerprint));
        ui.horizontal(|ui| {
            ui.label("Disclosure proof");
            ui.add(
                egui::TextEdit::singleline(&mut self.proof)
                    .hint_text("proof.json from `twinmint prove`"),
            );
            if ui.button("Check").clicked() {
                self.proof_result = Some(crate::studio::officer::check_proof(
                    Path::new(self.proof.trim()),
                    r,
                ));
            }
        });
        match &self.proof_result {
            Some(Ok(t)) => {
                ui.colored_label(GREEN, format!("proof verified: {t}"));
            }
            Some(Err(e)) => {
                ui.colored_label(RED, format!("proof does not verify: {e}"));
            }
            None => {}
        }
        ui.separator();
        ui.heading("Collateral");
        match &r.owner_kyc {
            Some(k) if k.valid => {
                ui.label(format!("owner KYC: {}", k.summary()));
            }
            Some(k) => {
                ui.colored_label(
                    egui::Color32::from_rgb(230, 80, 80),
                    format!("owner KYC: {}", k.summary()),
                );
            }
            None => {
                ui.colored_label(
                    egui::Color32::from_rgb(230, 80, 80),
                    "owner KYC: not admitted",
                );
            }
        }
        if let Some(f) = &r.footprint {
            ui.label(format!("land footprint: {f}"));
        }
        match &r.pledge {
            Some(p) => {
                ui.colored_label(egui::Color32::from_rgb(240, 190, 60), p.summary());
            }
            None => {
                ui.label("not pledged");
            }
        }
        if let Some(v) = &r.valuation {
            ui.label(format!(
                "on-chain valuation {} {} as of {} (oracle {})",
                v.value, v.currency, v.as_of_utc, v.oracle
            ));
        }
        if let Some(c) = &r.collateral {
            ui.label(format!(
                "collateral value {:.0} {} ({})",
                c.collateral_value, c.currency, c.source
            ));
            if let (Some(loan), Some(ltv)) = (c.loan, c.ltv) {
                ui.label(format!(
                    "loan {loan:.0} {}, LTV {:.1}%{}",
                    c.currency,
                    ltv * 100.0,
                    c.max_ltv
                        .map(|m| format!(" (max {:.0}%)", m * 100.0))
                        .unwrap_or_default()
                ));
            }
            if let (Some(liq), Some(cur)) = (c.liquidation_price_per_t, c.current_price_per_t) {
                ui.label(format!(
                    "liquidation line: {liq:.2} {}/t (today {cur:.2}; margin {:.0}%)",
                    c.currency,
                    c.margin_fraction.unwrap_or(0.0) * 100.0
                ));
            }
        }
        if let Some(a) = &r.attestation {
            ui.separator();
            ui.heading("Attestation");
            ui.label(format!(
                "surveyor {}{} ({}) at {}",
                a.surveyor,
                a.surveyor_name
                    .as_deref()
                    .map(|n| format!(" — {n}"))
                    .unwrap_or_default(),
                if a.surveyor_active {
                    "active"
                } else {
                    "role revoked"
                },
                a.timestamp_utc
            ));
        }
        if !r.surveys.is_empty() {
            ui.separator();
            ui.heading("Survey history");
            for s in &r.surveys {
                ui.label(format!(
                    "#{} {} by {} — {}{}{}",
                    s.index,
                    s.timestamp_utc,
                    s.surveyor,
                    short(&s.fingerprint),
                    s.drift_hash
                        .as_deref()
                        .map(|d| format!(", drift {}", short(d)))
                        .unwrap_or_default(),
                    if s.is_package { " (this package)" } else { "" }
                ));
            }
        }
        if let Some(v) = &r.carbon_view {
            ui.heading("Regulator view (carbon only)");
            let num = |p: &str| v.pointer(p).and_then(serde_json::Value::as_f64);
            if let (Some(co2e), Some(area)) = (num("/inventory/co2e_t"), num("/inventory/area_ha"))
            {
                ui.label(format!(
                    "year-0 stock {co2e:.1} t CO2e on {area:.2} ha ({:.1} t/ha)",
                    co2e / area.max(1e-9)
                ));
            }
            if let (Some(years), Some(p50)) = (
                v.pointer("/projection/year").and_then(|y| y.as_array()),
                v.pointer("/projection/stock_co2e_t_p50")
                    .and_then(|y| y.as_array()),
            ) && let (Some(y), Some(s)) = (years.last(), p50.last())
            {
                ui.label(format!(
                    "projected stock in {y}: {:.1} t CO2e (P50)",
                    s.as_f64().unwrap_or(0.0)
                ));
            }
            if let Some(h) = v.get("history") {
                ui.label(format!(
                    "resurvey of {} after {} years",
                    h.get("previous_fingerprint")
                        .and_then(|f| f.as_str())
                        .map(short)
                        .unwrap_or_default(),
                    h.get("elapsed_years")
                        .and_then(serde_json::Value::as_f64)
                        .unwrap_or(0.0)
                ));
            }
        }
        if let Some(t) = &r.timeline {
            ui.heading("Drift since the previous survey");
            ui.label(format!(
                "{:.1} years after {}: growth {}, stock {}; value at stake {:+.0} {}",
                t.elapsed_years,
                t.previous_project,
                t.growth_flag,
                t.stock_flag,
                t.value_at_stake,
                t.currency
            ));
            let pct =
                |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{:.0}%", v * 100.0));
            ui.label(format!(
                "collateral then {:.0}, now {:.0} {}; LTV then {}, now {}",
                t.collateral_before,
                t.collateral_now,
                t.currency,
                pct(t.ltv_then),
                pct(t.ltv_now)
            ));
            ui.colored_label(
                if t.drift_on_chain { GREEN } else { RED },
                format!(
                    "drift summary {} {}",
                    short(&t.drift_hash),
                    if t.drift_on_chain {
                        "is on chain"
                    } else {
                        "is NOT the one on chain"
                    }
                ),
            );
        }
        ui.separator();
        let failed = r.files.iter().filter(|f| !f.ok).count();
        egui::CollapsingHeader::new(format!(
            "Package checks: {} of {} pass",
            r.files.len() - failed,
            r.files.len()
        ))
        .default_open(failed > 0)
        .show(ui, |ui| {
            egui::Grid::new("checks")
                .num_columns(4)
                .striped(true)
                .show(ui, |ui| {
                    for f in &r.files {
                        ui.colored_label(
                            if f.ok { GREEN } else { RED },
                            if f.ok { "✔" } else { "✖" },
                        );
                        ui.label(&f.name);
                        ui.label(&f.what);
                        ui.label(&f.detail);
                        ui.end_row();
                    }
                });
        });
        for n in &r.notes {
            ui.label(egui::RichText::new(n).italics());
        }
        ui.separator();
        let pkg = self.query(project).ok().and_then(|q| q.package);
        if ui
            .add_enabled(pkg.is_some(), egui::Button::new("Export collateral report"))
            .clicked()
            && let Some(pkg) = pkg
        {
            let out = project
                .map(|p| p.join(format!("collateral-report-token-{}.html", r.token_id)))
                .unwrap_or_else(|| {
                    PathBuf::from(format!("collateral-report-token-{}.html", r.token_id))
                });
            match crate::studio::officer::export_report(r, &pkg, &out) {
                Ok(p) => self.exported = Some(p),
                Err(e) => errors.push("Export", e),
            }
        }
        if let Some(p) = &self.exported {
            ui.label(format!("wrote {}", p.display()));
        }
    }
}

fn short(s: &str) -> String {
    if s.len() > 20 {
        format!("{}…{}", &s[..10], &s[s.len() - 8..])
    } else {
        s.to_string()
    }
}

/// Poll the mint and officer workers once a frame.
pub fn poll_panels(
    mut mint: ResMut<MintPanel>,
    mut officer: ResMut<OfficerPanel>,
    mut errors: ResMut<Errors>,
) {
    mint.poll();
    let dev = mint.dev.info().cloned();
    if officer.dev != dev {
        officer.dev = dev;
    }
    officer.poll(&mut errors);
}
