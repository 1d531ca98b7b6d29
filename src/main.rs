//! `glassbox [NOTEBOOK]` opens the app; `glassbox train` and `glassbox eval` run headless.

use std::process::ExitCode;

use clap::Parser as _;
use glassbox::cli::{self, Cli};
use glassbox::{assets_path, GlassboxApp, DEFAULT_NOTEBOOK, LAST_NOTEBOOK_KEY, RECENT_KEY};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = match Cli::try_parse() {
        Ok(args) => args,
        Err(e) => {
            // Help and version are not errors; bad arguments are bad input, said in one line.
            if !e.use_stderr() {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            eprintln!("glassbox: error: {}", cli::usage_error(&e));
            return ExitCode::from(2);
        }
    };
    let result = match args.command {
        Some(command) => cli::run(command),
        None => {
            let chosen = args.notebook;
            let options = eframe::NativeOptions {
                viewport: eframe::egui::ViewportBuilder::default()
                    .with_inner_size([1100.0, 860.0])
                    .with_title("Glassbox"),
                ..Default::default()
            };
            let creator = Box::new(move |cc: &eframe::CreationContext<'_>| {
                // Pictures in lesson text (`![a figure](figure.png)`), read from files.
                egui_extras::install_image_loaders(&cc.egui_ctx);
                // The notebook named on the command line, else the last one (if it still exists),
                // else the example.
                let last: Option<std::path::PathBuf> = cc
                    .storage
                    .and_then(|s| eframe::get_value(s, LAST_NOTEBOOK_KEY))
                    .filter(|p: &std::path::PathBuf| p.exists());
                let path = chosen.or(last).unwrap_or_else(|| assets_path(DEFAULT_NOTEBOOK));
                let recent: Vec<std::path::PathBuf> =
                    cc.storage.and_then(|s| eframe::get_value(s, RECENT_KEY)).unwrap_or_default();
                let mut app = GlassboxApp::new(path).with_recent(recent);
                if let Some(dir) = eframe::storage_dir("Glassbox") {
                    app = app.with_recovery(dir.join("recovery.json"));
                }
                Ok(Box::new(app) as Box<dyn eframe::App>)
            });
            return match eframe::run_native("Glassbox", options, creator) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("glassbox: error: cannot open a window ({e}): run scripts/install-deps.sh, or use `glassbox train` headless");
                    ExitCode::FAILURE
                }
            };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("glassbox: error: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}
