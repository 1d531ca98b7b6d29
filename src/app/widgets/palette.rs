//! One colour per class, the same in every view of a dataset (scatter plot, class-balance bars,
//! sample labels, decision boundaries), from Tableau's ten-colour palette (via `colorous`), which
//! was designed to stay distinguishable for colour-blind readers. A class named after a colour
//! ("orange", "blue") gets that colour.

use eframe::egui::Color32;

/// The names of Tableau 10's colours, in its order.
const NAMES: [&str; 10] = ["blue", "orange", "red", "teal", "green", "yellow", "purple", "pink", "brown", "grey"];

/// A dataset's class colours.
#[derive(Clone, Debug, PartialEq)]
pub struct Palette {
    colors: Vec<Color32>,
}

fn color(c: colorous::Color) -> Color32 {
    Color32::from_rgb(c.r, c.g, c.b)
}

impl Palette {
    /// The colours of these classes, in class order.
    #[must_use]
    pub fn for_classes(names: &[String]) -> Self {
        let tableau = colorous::TABLEAU10;
        // Classes named after colours get those colours, when every class is.
        let named: Option<Vec<Color32>> = names
            .iter()
            .map(|n| {
                let n = n.trim().to_lowercase();
                let n = if n == "gray" { "grey".to_owned() } else { n };
                NAMES.iter().position(|&c| c == n).map(|i| color(tableau[i]))
            })
            .collect();
        let distinct = |c: &Vec<Color32>| !c.is_empty() && c.iter().enumerate().all(|(i, x)| !c[..i].contains(x));
        if let Some(colors) = named.filter(distinct) {
            return Self { colors };
        }
        let n = names.len();
        let colors = if n <= tableau.len() {
            tableau.iter().take(n.max(1)).map(|&c| color(c)).collect()
        } else {
            // More classes than any palette tells apart: evenly spaced hues.
            (0..n).map(|i| color(colorous::SINEBOW.eval_rational(i, n))).collect()
        };
        Self { colors }
    }

    /// The colour of class `class`.
    #[must_use]
    pub fn color(&self, class: usize) -> Color32 {
        self.colors.get(class).copied().unwrap_or(Color32::GRAY)
    }

    /// The colour of class `class` for text: on a light background, darkened until it reads
    /// (Tableau's yellow, pink and grey are too light for text on white).
    #[must_use]
    pub fn text_color(&self, class: usize, dark_mode: bool) -> Color32 {
        let c = self.color(class);
        if dark_mode {
            return c;
        }
        let darken = |v: u8| (f32::from(v) * 0.62) as u8;
        Color32::from_rgb(darken(c.r()), darken(c.g()), darken(c.b()))
    }
}

/// One colour per model in comparisons (a palette of its own, so a model is not mistaken for a
/// class).
#[must_use]
pub fn model_color(index: usize) -> Color32 {
    // Dark2 without its orange first (the training cells draw test curves orange) and its teal
    // (close to their blue training curves).
    const ORDER: [usize; 8] = [2, 3, 4, 6, 5, 7, 0, 1];
    color(colorous::DARK2[ORDER[index % ORDER.len()]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_named_after_colours_get_them() {
        let p = Palette::for_classes(&["orange".into(), "blue".into()]);
        assert_eq!(p.color(0), color(colorous::TABLEAU10[1]));
        assert_eq!(p.color(1), color(colorous::TABLEAU10[0]));
        let digits: Vec<String> = (0..10).map(|d| d.to_string()).collect();
        let p = Palette::for_classes(&digits);
        assert_ne!(p.color(0), p.color(9));
        let many: Vec<String> = (0..30).map(|d| d.to_string()).collect();
        assert_ne!(Palette::for_classes(&many).color(0), Palette::for_classes(&many).color(15));
    }
}
