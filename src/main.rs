//! `glassbox [GRAPH.json]`: opens the app on a model graph (the spiral MLP example by default).

use glassbox::{assets_path, GlassboxApp, DEFAULT_GRAPH};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> eframe::Result {
    let path = std::env::args_os().nth(1).map_or_else(|| assets_path(DEFAULT_GRAPH), Into::into);
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default().with_inner_size([900.0, 640.0]).with_title("Glassbox"),
        ..Default::default()
    };
    eframe::run_native("Glassbox", options, Box::new(|_cc| Ok(Box::new(GlassboxApp::new(path)))))
}
