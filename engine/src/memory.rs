//! Memory budgets: how much a dataset or a model will take, worked out from its spec before
//! anything is allocated, and the limit past which Glassbox refuses with a message instead of
//! being killed by the operating system.
//!
//! Estimates are in `f64` bytes, so a size of `usize::MAX` gives a (huge) number instead of an
//! overflow. They are deliberately generous: they count every copy a build or a training run
//! keeps (splits, gradients, optimiser moments, checkpoints), so "fits" means "fits with room".

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::EngineError;

/// The share of the machine's memory Glassbox lets one dataset or one model take.
const SHARE_OF_MACHINE: f64 = 0.75;
/// What is assumed when the machine's memory cannot be read.
const ASSUMED_MACHINE_BYTES: u64 = 8 << 30;

/// A limit set by [`set_limit`] (0: none set).
static LIMIT_OVERRIDE: AtomicU64 = AtomicU64::new(0);

/// The machine's memory in bytes (the container's limit, where one is set), if it can be read.
#[must_use]
pub fn machine_bytes() -> Option<u64> {
    static MACHINE: OnceLock<Option<u64>> = OnceLock::new();
    *MACHINE.get_or_init(|| {
        let mut system = sysinfo::System::new();
        system.refresh_memory();
        let total = system.total_memory();
        let limited = system.cgroup_limits().map_or(total, |c| c.total_memory.min(total));
        (limited > 0).then_some(limited)
    })
}

/// The `GLASSBOX_MEMORY_LIMIT` environment variable: `None` when it is not set; a size that
/// cannot be read is an error to show (the command line refuses to start with it); a size past
/// the machine's memory is cut to the machine's memory.
///
/// # Errors
/// The variable is set but is not a size.
pub fn limit_from_env() -> Result<Option<u64>, String> {
    let Ok(text) = std::env::var("GLASSBOX_MEMORY_LIMIT") else { return Ok(None) };
    let bytes = parse_bytes(&text).ok_or_else(|| {
        format!(
            "GLASSBOX_MEMORY_LIMIT is \"{}\", which is not a size: use a size such as 2GB or 512MB, or unset it",
            crate::files::brief(&text)
        )
    })?;
    Ok(Some(machine_bytes().map_or(bytes, |m| bytes.min(m))))
}

/// How many bytes one dataset or one model may take: the `GLASSBOX_MEMORY_LIMIT` environment
/// variable (`"2GB"`, `"512MB"`, or bytes, at most the machine's memory) if set, else a limit
/// from [`set_limit`], else three quarters of the machine's memory.
#[must_use]
pub fn limit_bytes() -> u64 {
    static FROM_ENV: OnceLock<Option<u64>> = OnceLock::new();
    let from_env = *FROM_ENV.get_or_init(|| limit_from_env().ok().flatten());
    if let Some(bytes) = from_env {
        return bytes;
    }
    match LIMIT_OVERRIDE.load(Ordering::Relaxed) {
        0 => (machine_bytes().unwrap_or(ASSUMED_MACHINE_BYTES) as f64 * SHARE_OF_MACHINE) as u64,
        set => set,
    }
}

/// Sets the limit for this process (tests use a small one, so that a size that slipped through
/// shows up as a refusal instead of filling the machine). `0` goes back to the machine's.
pub fn set_limit(bytes: u64) {
    LIMIT_OVERRIDE.store(bytes, Ordering::Relaxed);
}

/// Reads `"512MB"`, `"2 GB"`, `"1.5GiB"` or a plain number of bytes.
#[must_use]
pub fn parse_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = number * scale;
    (bytes.is_finite() && bytes >= 1.0).then_some(bytes as u64)
}

/// A size for people: `"340 MB"`, `"96 GB"`, `"3.5 GB"`, `"2.1e9 TB"`.
#[must_use]
pub fn format_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut value = bytes.max(0.0);
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value >= 1e6 {
        format!("{value:.1e} {}", UNITS[unit])
    } else if value >= 10.0 || unit == 0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Refuses `bytes` past the limit: "`what` needs about 96 GB`detail`; this machine has 23 GB of
/// memory and Glassbox lets one dataset or model use at most 17 GB: `advice`".
///
/// # Errors
/// [`EngineError::TooLarge`] when the estimate is past [`limit_bytes`].
pub fn check(what: &str, bytes: f64, detail: &str, advice: &str) -> Result<(), EngineError> {
    let limit = limit_bytes();
    if bytes <= limit as f64 {
        return Ok(());
    }
    let machine = match machine_bytes() {
        Some(m) => format!("this machine has {} of memory", format_bytes(m as f64)),
        None => "this machine's memory is unknown".to_owned(),
    };
    Err(EngineError::TooLarge(format!(
        "{what} needs about {}{detail}; {machine} and Glassbox lets one dataset or model use at most {}: {advice}",
        format_bytes(bytes),
        format_bytes(limit as f64)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_and_print() {
        assert_eq!(parse_bytes("512MB"), Some(512 << 20));
        assert_eq!(parse_bytes("2 GB"), Some(2 << 30));
        assert_eq!(parse_bytes("1000"), Some(1000));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(format_bytes(96.0 * 1024.0 * 1024.0 * 1024.0), "96 GB");
        assert_eq!(format_bytes(3.5 * 1024.0 * 1024.0 * 1024.0), "3.5 GB");
        assert_eq!(format_bytes(500.0), "500 bytes");
        assert!(format_bytes(1e30).ends_with("TB"), "{}", format_bytes(1e30));
    }

    #[test]
    fn the_machine_has_memory() {
        // This machine can be read; the limit is a share of it.
        let machine = machine_bytes().expect("readable here");
        assert!(machine > 1 << 28, "{machine}");
    }
}
