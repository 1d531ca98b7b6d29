//! Reading the files a user names: only regular files (a named pipe would block forever, a device
//! would never end), with messages that say which file and what to do.

use std::path::Path;

use crate::EngineError;

/// What is at `path`, in words, when it is not a regular file; `None` for a regular file.
fn not_a_file(path: &Path, what: &str) -> Option<String> {
    let shown = brief_path(path);
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Some(format!("{what} {shown} does not exist: check the path"))
        }
        Err(e) => Some(format!("{what} {shown} cannot be read ({e}): check the path and its permissions")),
        Ok(m) if m.is_file() => None,
        Ok(m) if m.is_dir() => Some(format!("{what} {shown} is a folder, not a file: choose a file")),
        Ok(_) => Some(format!(
            "{what} {shown} is not a regular file (it is a named pipe, a device or a socket, which cannot be read to the end): choose a file"
        )),
    }
}

/// Refuses anything but an existing regular file (symbolic links are followed).
///
/// # Errors
/// [`EngineError::File`] saying what is there instead.
pub fn check_regular_file(path: &Path, what: &str) -> Result<(), EngineError> {
    not_a_file(path, what).map_or(Ok(()), |m| Err(EngineError::File(m)))
}

/// Refuses anything but an existing folder.
///
/// # Errors
/// [`EngineError::File`] saying what is there instead.
pub fn check_folder(path: &Path, what: &str) -> Result<(), EngineError> {
    let shown = brief_path(path);
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(EngineError::File(format!(
            "{what} {shown} is not a folder: choose a folder with one subfolder per class"
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(EngineError::File(format!("{what} {shown} does not exist: check the path")))
        }
        Err(e) => Err(EngineError::File(format!("{what} {shown} cannot be read ({e}): check its permissions"))),
    }
}

/// The bytes of a regular file.
///
/// # Errors
/// [`EngineError::File`] when it is not a regular file or cannot be read.
pub fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, EngineError> {
    check_regular_file(path, what)?;
    std::fs::read(path).map_err(|e| {
        EngineError::File(format!(
            "{what} {} cannot be read ({e}): check that it exists and is not open elsewhere",
            brief_path(path)
        ))
    })
}

/// The bytes of a regular file of at most `max_bytes` (its size is checked before it is read,
/// so a 5 GB file given by mistake costs nothing).
///
/// # Errors
/// [`EngineError::File`] when it is not a regular file, is larger, or cannot be read.
pub fn read_file_at_most(path: &Path, what: &str, max_bytes: u64) -> Result<Vec<u8>, EngineError> {
    check_regular_file(path, what)?;
    let len = std::fs::metadata(path).map_or(0, |m| m.len());
    if len > max_bytes {
        return Err(EngineError::File(format!(
            "{what} {} is {}, more than {what} can be (at most {}): check that the right file was chosen",
            brief_path(path),
            crate::memory::format_bytes(len as f64),
            crate::memory::format_bytes(max_bytes as f64)
        )));
    }
    read_file(path, what)
}

/// The first `max_bytes` of a regular file (all of it if shorter).
///
/// # Errors
/// [`EngineError::File`] when it is not a regular file or cannot be read.
pub fn read_head(path: &Path, what: &str, max_bytes: u64) -> Result<Vec<u8>, EngineError> {
    use std::io::Read as _;
    check_regular_file(path, what)?;
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max_bytes).read_to_end(&mut head))
        .map_err(|e| EngineError::File(format!("{what} {} cannot be read ({e})", brief_path(path))))?;
    Ok(head)
}

/// A file name beside `path` that nothing else uses: `path`'s name, this process and a count,
/// for a temporary file that is renamed over `path` (two saves at once never share one, and an
/// existing file of the user's is never taken for it).
#[must_use]
pub fn unique_beside(path: &Path, suffix: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let mut name = path.file_name().map(std::ffi::OsStr::to_os_string).unwrap_or_default();
    name.push(format!(".{}-{}.{suffix}", std::process::id(), COUNT.fetch_add(1, Ordering::Relaxed)));
    path.with_file_name(name)
}

/// Writes `bytes` to a new temporary file beside `path` (created afresh, never over an existing
/// file) and renames it over `path`; on failure the temporary file is removed.
///
/// # Errors
/// The I/O error of the write or the rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let tmp = unique_beside(path, "tmp");
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The text of a regular file; a file that is not UTF-8 text is refused with the byte where it
/// stops being text.
///
/// # Errors
/// [`EngineError::File`] when it is not a regular file, cannot be read, or is not UTF-8.
pub fn read_text(path: &Path, what: &str, max_bytes: u64) -> Result<String, EngineError> {
    let bytes = read_file_at_most(path, what, max_bytes)?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        EngineError::File(format!(
            "{what} {} is not text: byte {at} (counted from 0) is not valid UTF-8, and {what} must be UTF-8 text: check that the right file was chosen",
            brief_path(path)
        ))
    })
}

/// A path for a message, cut like [`brief`] text.
#[must_use]
pub fn brief_path(path: &Path) -> String {
    brief(&path.display().to_string())
}

/// The first 80 characters of user text and its length, for messages that quote it: a 10 MB
/// string pasted into a field is not echoed back whole.
#[must_use]
pub fn brief(text: &str) -> String {
    const SHOWN: usize = 80;
    let count = text.chars().count();
    if count <= SHOWN {
        printable(text)
    } else {
        let head: String = text.chars().take(SHOWN).collect();
        format!("{}… ({count} characters)", printable(&head))
    }
}

/// Text with the characters that would act on a terminal instead of showing (escape sequences,
/// carriage returns, text-direction overrides) replaced by `?`.
#[must_use]
pub fn printable(text: &str) -> String {
    let acts =
        |c: char| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c) || ('\u{2066}'..='\u{2069}').contains(&c);
    if text.chars().any(acts) {
        text.chars().map(|c| if acts(c) { '?' } else { c }).collect()
    } else {
        text.to_owned()
    }
}

/// A message with every quoted part (between `"` or backticks) cut to [`brief`], for messages of
/// other libraries that quote user text whole (serde's "invalid type: string "..."").
#[must_use]
pub fn brief_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1024));
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let quote = rest[open..].chars().next().unwrap_or('"');
        let after = &rest[open + 1..];
        let Some(close) = after.find(quote) else { break };
        out.push_str(&rest[..=open]);
        out.push_str(&brief(&after[..close]));
        out.push(quote);
        rest = &after[close + 1..];
    }
    out.push_str(&brief_tail(rest));
    out
}

/// An unquoted remainder is cut too, generously: a message is at most a few lines.
fn brief_tail(text: &str) -> String {
    const LONGEST: usize = 400;
    if text.chars().count() <= LONGEST {
        text.to_owned()
    } else {
        let head: String = text.chars().take(LONGEST).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brief_keeps_short_text_and_cuts_long_text() {
        assert_eq!(brief("dense1"), "dense1");
        let long = "x".repeat(10_000);
        let short = brief(&long);
        assert!(short.starts_with(&"x".repeat(80)));
        assert!(short.ends_with("… (10000 characters)"), "{short}");
        assert!(short.chars().count() < 110);
    }

    #[test]
    fn quoted_text_is_cut() {
        let long = "y".repeat(5000);
        let message = format!("invalid type: string \"{long}\", expected usize at line 3 column 5010");
        let cut = brief_quoted(&message);
        assert!(cut.starts_with("invalid type: string \"yyyy"), "{cut}");
        assert!(cut.contains("… (5000 characters)\", expected usize at line 3"), "{cut}");
        assert!(cut.len() < 200, "{cut}");
        assert_eq!(
            brief_quoted("unknown variant `Dense2`, expected one of `Input`"),
            "unknown variant `Dense2`, expected one of `Input`"
        );
    }

    #[test]
    fn folders_and_missing_files_are_named() {
        let dir = std::env::temp_dir();
        let e = read_file(&dir, "the notebook").expect_err("a folder is not a file").to_string();
        assert!(e.contains("is a folder, not a file"), "{e}");
        let missing = dir.join("glassbox-no-such-file.json");
        let e = read_file(&missing, "the notebook").expect_err("missing").to_string();
        assert!(e.contains("does not exist"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_named_pipe_is_refused_without_blocking() {
        let fifo = std::env::temp_dir().join(format!("glassbox-fifo-{}", std::process::id()));
        let _ = std::fs::remove_file(&fifo);
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
        assert!(made.success());
        let e = read_text(&fifo, "the notebook", 1 << 20).expect_err("a FIFO is not a file").to_string();
        let _ = std::fs::remove_file(&fifo);
        assert!(e.contains("not a regular file"), "{e}");
    }

    #[test]
    fn invalid_utf8_names_the_byte() {
        let path = std::env::temp_dir().join(format!("glassbox-bad-utf8-{}.json", std::process::id()));
        std::fs::write(&path, b"{\"title\": \"ab\xff\xfe\"}").expect("writes");
        let e = read_text(&path, "the notebook", 1 << 20).expect_err("not UTF-8").to_string();
        let _ = std::fs::remove_file(&path);
        assert!(e.contains("byte 13"), "{e}");
        assert!(e.contains(&path.display().to_string()), "{e}");
    }
}
