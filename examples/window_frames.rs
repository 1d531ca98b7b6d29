//! Frame time of the real window, drawing included, and how long a cold start takes to show it.
//!
//! Opens the app in an eframe window (glow) exactly as `glassbox` does, repainting as fast as it
//! can (no vsync), with the lesson text and dataset cells folded so the training cell and its
//! curves are on screen. It measures 300 frames as opened, 300 while the model trains, and 300
//! after pausing (the same curves, no trainer competing for the cores), and prints the median and
//! 99th-percentile time between frames: everything a frame costs (UI code,
//! tessellation, OpenGL drawing, buffer swap). The 60 fps budget is 16.7 ms. It also prints the
//! time from process start to the first frame, when `GLASSBOX_LAUNCHED_NS` holds the launch time
//! in nanoseconds since the Unix epoch (`scripts/bench-window.sh` sets it).
//!
//! At the end it prints the process's peak resident memory.
//!
//! Needs a display: `scripts/bench-window.sh` runs it under Xvfb with Mesa's software renderer.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use eframe::egui;
use glassbox::{assets_path, AppCommand, GlassboxApp, ModelCommand, DEFAULT_NOTEBOOK};
use glassbox_engine::train::RunState;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const FRAMES: usize = 300;
const WARMUP: usize = 30;

struct Bench {
    app: GlassboxApp,
    started: Instant,
    /// Frame starts: each frame's interval is the time since the previous one began.
    last: Option<Instant>,
    idle: Vec<f64>,
    training: Vec<f64>,
    paused: Vec<f64>,
    frame_count: usize,
    phase: Phase,
    /// Time spent in the app's own UI code per frame, in each phase.
    ui_idle: Vec<f64>,
    ui_training: Vec<f64>,
    ui_paused: Vec<f64>,
    /// Process start to the first UI call, and to the second (the first frame is on screen).
    first_ui: Option<Duration>,
    first_shown: Option<Duration>,
    /// Frames counted so far, and when that last changed (the watchdog).
    counted: usize,
    progress_at: Instant,
}

fn median_and_p99(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[(v.len() * 99 / 100).min(v.len() - 1)])
}

/// Time since launch, when the launcher told us when that was.
fn since_launch() -> Option<Duration> {
    let launched: u128 = std::env::var("GLASSBOX_LAUNCHED_NS").ok()?.parse().ok()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_nanos();
    Some(Duration::from_nanos(u64::try_from(now.checked_sub(launched)?).ok()?))
}

/// What the benchmark is measuring now.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    /// The notebook as opened: no curves yet, nothing training.
    Idle,
    /// The model training in the background, its curves growing.
    Training,
    /// Training paused: the same curves, no trainer competing for the cores.
    Paused,
    Done,
}

impl Bench {
    fn model(&self) -> String {
        self.app.notebook().and_then(|nb| nb.models.first()).map(|m| m.name.clone()).unwrap_or_default()
    }

    fn report(&mut self) {
        let ms = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1e3);
        println!(
            "cold_start first_ui_ms={:.0} first_frame_shown_ms={:.0} (from {})",
            ms(self.first_ui),
            ms(self.first_shown),
            if since_launch().is_some() { "process launch" } else { "main()" }
        );
        let steps = self.app.record().latest.map_or(0, |p| p.step);
        let mut medians = [0.0; 3];
        for (i, (name, frames, ui)) in [
            ("idle_as_opened", &mut self.idle, &mut self.ui_idle),
            ("training", &mut self.training, &mut self.ui_training),
            ("paused_same_curves", &mut self.paused, &mut self.ui_paused),
        ]
        .into_iter()
        .enumerate()
        {
            let (median, p99) = median_and_p99(&mut frames[WARMUP..]);
            let (ui_median, _) = median_and_p99(&mut ui[WARMUP..]);
            medians[i] = median;
            println!("window_frame_{name} median_ms={median:.2} p99_ms={p99:.2} ui_code_median_ms={ui_median:.2}");
        }
        println!(
            "training/paused={:.2} training/idle={:.2} budget_ms=16.7 training_steps={steps}",
            medians[1] / medians[2],
            medians[1] / medians[0]
        );
        // Peak resident memory of the whole process (Linux), against the 500 MB target.
        if let Some(peak) = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        {
            println!("peak_memory {}", peak.trim_start_matches("VmHWM:").trim());
        }
    }
}

impl eframe::App for Bench {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let now = Instant::now();
        self.frame_count += 1;
        match self.frame_count {
            1 => {
                self.first_ui = since_launch().or(Some(self.started.elapsed()));
                // Fold the text and dataset cells so the curves are on screen.
                self.app.push(AppCommand::ToggleFolded(0));
                self.app.push(AppCommand::ToggleFolded(1));
            }
            2 => self.first_shown = since_launch().or(Some(self.started.elapsed())),
            _ => {}
        }
        let running = matches!(self.app.record().state, RunState::Running);
        let interval = self.last.map(|last| now.duration_since(last).as_secs_f64() * 1e3);
        self.last = Some(now);
        let t0 = Instant::now();
        self.app.show(ui);
        let ui_ms = t0.elapsed().as_secs_f64() * 1e3;
        let full = FRAMES + WARMUP;
        if let Some(ms) = interval {
            match self.phase {
                Phase::Idle => {
                    self.idle.push(ms);
                    self.ui_idle.push(ui_ms);
                    if self.idle.len() == full {
                        self.phase = Phase::Training;
                    }
                }
                // Only frames drawn while the trainer runs count; a finished run is restarted.
                Phase::Training if running => {
                    self.training.push(ms);
                    self.ui_training.push(ui_ms);
                    if self.training.len() == full {
                        self.app.push(AppCommand::model(&self.model(), ModelCommand::Pause));
                        self.phase = Phase::Paused;
                    }
                }
                Phase::Training => self.app.push(AppCommand::model(&self.model(), ModelCommand::Train)),
                Phase::Paused if !running => {
                    self.paused.push(ms);
                    self.ui_paused.push(ui_ms);
                    if self.paused.len() == full {
                        self.phase = Phase::Done;
                        self.report();
                        // Exit here: closing the window would (rightly) ask whether to save the
                        // folded cells.
                        std::process::exit(0);
                    }
                }
                Phase::Paused | Phase::Done => {}
            }
        }
        // A benchmark that stops making progress says where, instead of running on.
        let counted = self.idle.len() + self.training.len() + self.paused.len();
        if counted != self.counted {
            self.counted = counted;
            self.progress_at = Instant::now();
        } else if self.phase != Phase::Done && self.progress_at.elapsed() > Duration::from_secs(60) {
            eprintln!(
                "window_frames: no progress for 60 s (phase {:?}, run state {:?}); giving up",
                self.phase,
                self.app.record().state
            );
            std::process::exit(1);
        }
        ui.ctx().request_repaint();
    }
}

fn main() -> eframe::Result {
    let started = Instant::now();
    let path = std::env::args().nth(1).map_or_else(|| assets_path(DEFAULT_NOTEBOOK), Into::into);
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size([1100.0, 860.0]).with_title("Glassbox frame time"),
        glow_options: eframe::egui_glow::GlowConfiguration { vsync: false, ..Default::default() },
        persist_window: false,
        ..Default::default()
    };
    eframe::run_native(
        "Glassbox frame time",
        options,
        Box::new(move |_cc| {
            let mut app = GlassboxApp::new(path);
            app.set_epochs_for_test(100_000);
            Ok(Box::new(Bench {
                app,
                started,
                last: None,
                idle: Vec::new(),
                training: Vec::new(),
                paused: Vec::new(),
                frame_count: 0,
                phase: Phase::Idle,
                ui_idle: Vec::new(),
                ui_training: Vec::new(),
                ui_paused: Vec::new(),
                first_ui: None,
                first_shown: None,
                counted: 0,
                progress_at: Instant::now(),
            }))
        }),
    )
}
