//! Drawing pieces the cells share: class colours, plots with their legends outside the data,
//! and how numbers and tokens are written.

pub mod heatmap;
pub mod palette;
pub mod plots;

/// A number as a student reads it: `0.02`, `0.5`, `3`, `1500`; scientific only for huge or tiny
/// values (`1e-5`, `2.5e7`). The engine's messages write numbers the same way.
pub use glassbox_engine::train::readable as short_number;

/// "42 s", "3 min 5 s", "1 h 2 min".
#[must_use]
pub fn eta_text(seconds: f32) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// Text with its whitespace made visible, for tokens and class names: a space as `·`, a new line
/// as `¶`, a tab as `»` (a class called " " would otherwise show as nothing). These are the marks
/// text editors use that the window's font has (it has no `␣` or `⏎`).
#[must_use]
pub fn visible_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ' ' => out.push('·'),
            '\n' => out.push('¶'),
            '\t' => out.push('»'),
            '\r' => out.push_str("\\r"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_short() {
        assert_eq!(short_number(0.02), "0.02");
        assert_eq!(short_number(0.001), "0.001");
        assert_eq!(short_number(0.0001), "1e-4");
        assert_eq!(short_number(2.5e-5), "2.5e-5");
        assert_eq!(short_number(3.0), "3");
        assert_eq!(short_number(0.123_456), "0.123");
        assert_eq!(short_number(1500.0), "1500");
        assert_eq!(short_number(4e25), "4e25");
        assert_eq!(short_number(0.0), "0");
    }

    #[test]
    fn whitespace_is_visible() {
        assert_eq!(visible_whitespace("a b\n\t"), "a·b¶»");
    }
}
