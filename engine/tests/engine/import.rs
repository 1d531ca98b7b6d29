//! Importing CSV files and image folders, and what each kind of bad input says.

use std::path::{Path, PathBuf};

use glassbox_engine::data::{import_csv, import_image_folder, ColorMode, CsvOptions, LabelColumn, Targets, TaskKind};

/// A fresh folder under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("glassbox-import-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn error_of(path: &Path, options: &CsvOptions) -> String {
    import_csv(path, options).expect_err("bad input is refused").to_string()
}

#[test]
fn csv_with_header_and_named_label() {
    let dir = TempDir::new("header");
    let path = dir.file("flowers.csv", "width,height,species\n1.5,2,rose\n0.5,1e1,tulip\n\n2.5,3,rose\n");
    let d = import_csv(&path, &CsvOptions { label: LabelColumn::Name("Species".into()), ..CsvOptions::default() })
        .expect("imports");
    assert_eq!(d.len(), 3);
    assert_eq!(d.shape, vec![2]);
    assert_eq!(d.features, ["width", "height"]);
    assert_eq!(d.classes, ["rose", "tulip"]);
    assert_eq!(d.labels(), Some(&[0, 1, 0][..]));
    assert_eq!(d.sample(1), [0.5, 10.0]);
}

#[test]
fn csv_without_header_label_by_index_and_regression() {
    let dir = TempDir::new("plain");
    let path = dir.file("plain.csv", "3,1.0,2.0\n1,3.0,4.0\n10,5.0,6.0\n");
    let d = import_csv(&path, &CsvOptions { label: LabelColumn::Index(0), ..CsvOptions::default() }).expect("imports");
    assert_eq!(d.classes, ["1", "3", "10"], "numeric classes sort as numbers");
    assert_eq!(d.labels(), Some(&[1, 0, 2][..]));
    assert_eq!(d.sample(2), [5.0, 6.0]);
    let r = import_csv(
        &path,
        &CsvOptions { label: LabelColumn::Last, has_header: Some(false), task: TaskKind::Regression },
    )
    .expect("imports");
    assert_eq!(r.targets, Targets::Values(vec![2.0, 4.0, 6.0]));
    assert_eq!(r.sample(0), [3.0, 1.0]);
}

#[test]
fn csv_errors_say_where_and_what_to_do() {
    let dir = TempDir::new("errors");
    let opts = CsvOptions::default();
    let empty = dir.file("empty.csv", "\n\n");
    let msg = error_of(&empty, &opts);
    assert!(msg.contains("empty.csv") && msg.contains("the file is empty"), "{msg}");

    let ragged = dir.file("ragged.csv", "a,b,label\n1,2,x\n3,4,y\n5,x\n");
    let msg = error_of(&ragged, &opts);
    assert!(msg.contains("ragged.csv") && msg.contains("line 4 has 2 cells but the first line has 3"), "{msg}");

    let text_cell = dir.file("cell.csv", "a,b,label\n1,2,x\n3,oops,y\n");
    let msg = error_of(&text_cell, &opts);
    assert!(msg.contains("line 3, column 2 ('b') holds 'oops', which is not a number"), "{msg}");
    assert!(msg.contains("fix the cell or delete the row"), "{msg}");

    let blank = dir.file("blank.csv", "1,2,x\n3,,y\n");
    let msg = error_of(&blank, &opts);
    assert!(msg.contains("line 2, column 2 is empty"), "{msg}");

    let msg = error_of(&ragged, &CsvOptions { label: LabelColumn::Name("kind".into()), ..CsvOptions::default() });
    assert!(msg.contains("no column called 'kind'") && msg.contains("a, b, label"), "{msg}");

    let msg = error_of(&ragged, &CsvOptions { label: LabelColumn::Index(7), ..CsvOptions::default() });
    assert!(msg.contains("no column 7") && msg.contains("from 0 to 2"), "{msg}");

    let regression = dir.file("reg.csv", "a,target\n1,2\n3,high\n");
    let msg = error_of(&regression, &CsvOptions { task: TaskKind::Regression, ..CsvOptions::default() });
    assert!(msg.contains("line 3, column 2 ('target') holds 'high'"), "{msg}");

    let missing = dir.0.join("nowhere.csv");
    let msg = error_of(&missing, &opts);
    assert!(msg.contains("nowhere.csv") && msg.contains("does not exist: check the path"), "{msg}");
}

fn write_png(path: &Path, rgb: [u8; 3]) {
    let img = image::RgbImage::from_pixel(10, 6, image::Rgb(rgb));
    img.save(path).expect("png written");
}

#[test]
fn image_folders() {
    let dir = TempDir::new("images");
    for (class, colour) in [("dogs", [255, 0, 0]), ("cats", [0, 0, 255])] {
        std::fs::create_dir_all(dir.0.join(class)).expect("class dir");
        for i in 0..2 {
            write_png(&dir.0.join(class).join(format!("{i}.png")), colour);
        }
    }
    std::fs::write(dir.0.join("cats").join("notes.txt"), "not an image").expect("write");
    let grey = import_image_folder(&dir.0, 4, ColorMode::Grey).expect("imports");
    assert_eq!(grey.classes, ["cats", "dogs"], "classes are the sorted folder names");
    assert_eq!((grey.len(), grey.shape.clone()), (4, vec![1, 4, 4]));
    assert_eq!(grey.labels(), Some(&[0, 0, 1, 1][..]));
    let rgb = import_image_folder(&dir.0, 3, ColorMode::Rgb).expect("imports");
    assert_eq!(rgb.shape, vec![3, 3, 3]);
    // A blue cat: channel 0 (red) is 0, channel 2 (blue) is 1 everywhere.
    let cat = rgb.sample(0);
    assert!(cat[..9].iter().all(|&v| v == 0.0) && cat[18..].iter().all(|&v| (v - 1.0).abs() < 1e-6));
    let dog = rgb.sample(2);
    assert!(dog[..9].iter().all(|&v| (v - 1.0).abs() < 1e-6));
}

#[test]
fn image_folder_errors_name_the_folder_or_file() {
    let dir = TempDir::new("bad-images");
    let msg = import_image_folder(&dir.0.join("missing"), 8, ColorMode::Grey).expect_err("no folder").to_string();
    assert!(msg.contains("is not a folder"), "{msg}");
    let msg = import_image_folder(&dir.0, 8, ColorMode::Grey).expect_err("no classes").to_string();
    assert!(msg.contains("has no subfolders"), "{msg}");
    std::fs::create_dir_all(dir.0.join("empty")).expect("dir");
    let msg = import_image_folder(&dir.0, 8, ColorMode::Grey).expect_err("empty class").to_string();
    assert!(msg.contains("empty") && msg.contains("has no PNG or JPEG images"), "{msg}");
    std::fs::write(dir.0.join("empty").join("broken.png"), "not really a png").expect("write");
    let msg = import_image_folder(&dir.0, 8, ColorMode::Grey).expect_err("broken image").to_string();
    assert!(msg.contains("broken.png cannot be read as an image"), "{msg}");
}
