//! The bundled datasets live inside the binary: they load from any working directory.
//! (Its own test binary, because it changes the process's working directory.)

use glassbox_engine::data::{load_bundled, Bundled};

#[test]
fn bundled_sets_load_from_any_working_directory() {
    let elsewhere = std::env::temp_dir();
    std::env::set_current_dir(&elsewhere).expect("can change directory");
    assert!(!elsewhere.join("assets/datasets").exists(), "the test must run away from the assets");
    for which in Bundled::all() {
        let (train, _) = load_bundled(which).unwrap_or_else(|e| panic!("{which:?}: {e}"));
        assert!(!train.is_empty());
    }
}
