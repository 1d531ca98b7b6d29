//! Looking inside: for each model, which sample and which moment of its run the inspection cells
//! show, and asking its trainer for what they draw. Answers come back as events (folded into the
//! run record); nothing here waits for them, and nothing is asked more often than every 120 ms
//! or twice for the same thing.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use glassbox_engine::data::Splits;
use glassbox_engine::explain::{Baseline, Method};
use glassbox_engine::train::{
    Command, ExplainRequest, Explanation, InspectRequest, Inspection, RunState, Split, TrainingStepRequest,
};

use super::GlassboxApp;
use crate::notebook::CellKind;

/// The sample the inspection cells look at.
#[derive(Clone, Debug, PartialEq)]
pub enum Sample {
    /// A test sample, by index.
    Test(usize),
    /// A picture drawn on the canvas: ink from 0 (none) to 1, in the input's pixel layout.
    Drawn(Vec<f32>),
    /// A point of the plane (2-D sets).
    Point([f32; 2]),
    /// A typed sentence or token sequence (sequence sets).
    Typed(String),
}

impl Default for Sample {
    fn default() -> Self {
        Self::Test(0)
    }
}

impl Sample {
    /// What the sample is, in a few words.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Test(i) => format!("test sample {i}"),
            Self::Drawn(_) => "your drawing".to_owned(),
            Self::Point([x, y]) => format!("the point ({x:.2}, {y:.2})"),
            Self::Typed(text) => format!("\"{text}\""),
        }
    }
}

/// What the attribution cells ask for besides the sample and the moment (view state).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExplainOptions {
    /// The class explained; `None`: the one the model predicts.
    pub target: Option<usize>,
    /// What "nothing" is; `None`: each method's default for the input.
    pub baseline: Option<Baseline>,
    /// Run the randomisation check beside each map.
    pub randomisation: bool,
    /// For a table: the whole test set's view too.
    pub global: bool,
    /// For images: an input that excites this unit too.
    pub visualise: Option<glassbox_engine::explain::visualise::Unit>,
}

/// What one explanation was asked for.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct ExplainKey {
    pub sample: Sample,
    pub moment: Option<usize>,
    /// The step asked at (for "now").
    pub step: usize,
    pub methods: Vec<Method>,
    pub options: ExplainOptions,
}

/// How often "now" is explained again while training runs (the slow methods take a while).
const EXPLAIN_REFRESH: Duration = Duration::from_millis(1500);

/// What one model's inspection cells show, and what was asked for them.
#[derive(Default)]
pub(super) struct Inspector {
    pub sample: Sample,
    /// The timeline's moment (a snapshot's step); `None`: now, following training.
    pub moment: Option<usize>,
    /// The inspections asked for, newest last: id, sample, moment, and the step asked at.
    sent: VecDeque<(u64, Sample, Option<usize>, usize)>,
    asked_at: Option<Instant>,
    next_id: u64,
    /// The snapshot step an evaluation was asked for.
    evaluation_asked: Option<usize>,
    /// Why the chosen sample cannot be looked at (a typed word count that does not fit...).
    pub problem: Option<String>,
    pub explain: ExplainOptions,
    /// The explanations asked for, newest last.
    explain_sent: VecDeque<(u64, ExplainKey)>,
    explain_asked_at: Option<Instant>,
    /// The explanation the student stopped (not asked again until something changes).
    explain_cancelled: Option<u64>,
    /// The training step worked out by hand last asked for: its id, and the test sample, weight
    /// and entry.
    pub training_sent: Option<(u64, (usize, String, usize))>,
}

impl Inspector {
    /// The sample and moment of the newest inspection received, if it is one this inspector
    /// asked for.
    pub fn shown<'a>(&self, inspection: Option<&'a Inspection>) -> Option<(&'a Inspection, &Sample)> {
        let inspection = inspection?;
        self.sent.iter().find(|(id, ..)| *id == inspection.id).map(|(_, sample, ..)| (inspection, sample))
    }
}

impl Inspector {
    /// The newest explanation received, if this inspector asked for it, with what was asked.
    pub fn shown_explanation<'a>(
        &self,
        explanation: Option<&'a Explanation>,
    ) -> Option<(&'a Explanation, &ExplainKey)> {
        let explanation = explanation?;
        self.explain_sent.iter().find(|(id, _)| *id == explanation.id).map(|(_, key)| (explanation, key))
    }

    /// The explanation asked for last, not answered yet and not stopped: its id.
    pub fn explaining(&self, answered: Option<&Explanation>) -> Option<u64> {
        let (id, _) = self.explain_sent.back()?;
        (answered.is_none_or(|e| e.id != *id) && self.explain_cancelled != Some(*id)).then_some(*id)
    }
}

/// The minimum and maximum input value of the training split, for mapping drawn ink (0 to 1)
/// onto the values the model was trained on (exact for pixels kept as they are or normalised by
/// one global mean and deviation).
pub(super) fn ink_range(splits: &Splits) -> (f32, f32) {
    let inputs = &splits.train.inputs;
    let low = inputs.iter().copied().fold(f32::INFINITY, f32::min);
    let high = inputs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if low.is_finite() && high.is_finite() && high > low {
        (low, high)
    } else {
        (0.0, 1.0)
    }
}

/// A typed text as the token ids of the data's vocabulary (padded or cut to `length`), with the
/// words the vocabulary does not know.
pub(super) fn encode_typed(splits: &Splits, text: &str, length: usize) -> Result<(Vec<f32>, Vec<String>), String> {
    let Some(vocab) = splits.train.vocab.as_ref() else {
        return Err("this dataset has no vocabulary: choose a test sample instead".to_owned());
    };
    // Character windows (a language model's samples) end with the newest character, padded in
    // front; sentences start at the front, padded at the end.
    let ids = if vocab.kind == glassbox_engine::data::VocabKind::Char {
        let all = vocab.encode(text, None);
        let kept = &all[all.len().saturating_sub(length)..];
        let mut ids = vec![0; length - kept.len()];
        ids.extend_from_slice(kept);
        ids
    } else {
        vocab.encode(text, Some(length))
    };
    let unknown = glassbox_engine::data::Vocab::tokenize(vocab.kind, text)
        .into_iter()
        .filter(|token| !vocab.tokens().contains(token))
        .collect();
    Ok((ids.into_iter().map(|i| i as f32).collect(), unknown))
}

/// The model input for a sample that is not in the data; `None` for a test sample.
fn input_of(
    sample: &Sample,
    splits: &Splits,
    range: (f32, f32),
    input_shape: &[usize],
) -> Result<Option<Vec<f32>>, String> {
    let numel: usize = input_shape.iter().product();
    let fits = |v: Vec<f32>, what: &str| {
        if v.len() == numel {
            Ok(Some(v))
        } else {
            Err(format!("{what} has {} values but the model takes {numel}: choose a test sample", v.len()))
        }
    };
    match sample {
        Sample::Test(_) => Ok(None),
        Sample::Drawn(ink) => {
            let (low, high) = range;
            fits(ink.iter().map(|&v| low + v.clamp(0.0, 1.0) * (high - low)).collect(), "the drawing")
        }
        Sample::Point(p) => fits(p.to_vec(), "a point of the plane"),
        Sample::Typed(text) => {
            let length = input_shape.first().copied().unwrap_or(1);
            fits(encode_typed(splits, text, length)?.0, "the typed text")
        }
    }
}

/// How often "now" is looked at again while training runs.
const REFRESH: Duration = Duration::from_millis(120);

impl GlassboxApp {
    /// For every model with an inspection cell open (or node previews on), asks its trainer for
    /// the chosen sample at the chosen moment when that is not what it last answered; during
    /// training, "now" is asked again at most every 120 ms. Evaluation cells at a past moment get
    /// that moment's evaluation.
    pub(super) fn ask_for_inspections(&mut self, ctx: &eframe::egui::Context) {
        let Some(nb) = self.doc.notebook.as_ref() else { return };
        let previews = nb.view.node_previews;
        let mut wanted: Vec<(String, bool, bool, Vec<Method>)> = Vec::new();
        for cell in nb.cells.iter().filter(|c| !c.folded) {
            let (Some(model), inspects, evaluates) = (
                cell.model(),
                cell.kind.inspects() || (previews && matches!(cell.kind, CellKind::Model { .. })),
                matches!(cell.kind, CellKind::Evaluation { .. }),
            ) else {
                continue;
            };
            let methods: &[Method] = match &cell.kind {
                CellKind::Attribution { methods, .. } => methods,
                _ => &[],
            };
            match wanted.iter_mut().find(|w| w.0 == model) {
                Some(w) => {
                    w.1 |= inspects;
                    w.2 |= evaluates;
                    w.3.extend(methods);
                }
                None => wanted.push((model.to_owned(), inspects, evaluates, methods.to_vec())),
            }
        }
        for (model, inspects, evaluates, mut methods) in wanted {
            if inspects {
                self.ask_inspection(&model, ctx);
            }
            if evaluates {
                self.ask_moment_evaluation(&model);
            }
            methods.sort();
            methods.dedup();
            if !methods.is_empty() {
                self.ask_explanation(&model, methods);
            }
        }
    }

    fn ask_inspection(&mut self, model: &str, ctx: &eframe::egui::Context) {
        let Some(splits) = self.splits.as_ref() else { return };
        let Some(run) = self.runs.get(model) else { return };
        if !run.is_live() {
            // An untrained model can be looked at too: start its run (paused at step 0), unless it
            // does not fit the data (the model cell says why).
            if matches!(run.misfit, Some(None))
                && run.report.is_ok()
                && !matches!(run.record.state, RunState::Failed(_))
            {
                self.ensure_run(model, ctx);
            }
            return;
        }
        let Some(input_shape) = run.input_shape() else { return };
        let step = run.record.latest.map_or(0, |p| p.step);
        let inspector = &run.inspector;
        let (sample, moment) = (inspector.sample.clone(), inspector.moment);
        let asked_step = moment.unwrap_or(step);
        let current = inspector
            .shown(run.record.inspection.as_ref())
            .is_some_and(|(i, s)| *s == sample && i.moment == moment && (moment.is_some() || i.step == step));
        let pending = inspector.sent.back().is_some_and(|(id, s, m, at)| {
            *s == sample
                && *m == moment
                && *at == asked_step
                && run.record.inspection.as_ref().is_none_or(|i| i.id != *id)
        });
        let recent = inspector.asked_at.is_some_and(|t| t.elapsed() < REFRESH);
        let stale_wait = inspector.asked_at.is_some_and(|t| t.elapsed() < Duration::from_secs(2));
        if current || recent || (pending && stale_wait) {
            return;
        }
        let input = input_of(&sample, splits, self.ink, &input_shape);
        let test_len = splits.test.len();
        let Some(run) = self.runs.get_mut(model) else { return };
        let inspector = &mut run.inspector;
        let input = match input {
            Ok(input) => input,
            Err(problem) => {
                inspector.problem = Some(problem);
                return;
            }
        };
        let indices = match sample {
            Sample::Test(i) if i < test_len => vec![i],
            Sample::Test(_) if test_len > 0 => {
                inspector.sample = Sample::Test(0);
                return;
            }
            Sample::Test(_) => {
                inspector.problem = Some("this dataset has no test samples to look at".to_owned());
                return;
            }
            _ => Vec::new(),
        };
        inspector.problem = None;
        inspector.next_id += 1;
        let id = inspector.next_id;
        inspector.sent.push_back((id, sample, moment, asked_step));
        if inspector.sent.len() > 16 {
            inspector.sent.pop_front();
        }
        inspector.asked_at = Some(Instant::now());
        if let Some(session) = &run.session {
            session.send(Command::Inspect(InspectRequest { id, split: Split::Test, indices, input, moment }));
        }
    }

    /// Asks the model's trainer to explain the chosen sample with `methods` at the chosen moment
    /// when that is not what it last answered (or is working on); while training runs, "now" is
    /// explained again at most every 1.5 s. Needs the run that [`Self::ask_inspection`] starts.
    fn ask_explanation(&mut self, model: &str, methods: Vec<Method>) {
        let Some(splits) = self.splits.as_ref() else { return };
        let Some(run) = self.runs.get(model) else { return };
        if !run.is_live() {
            return;
        }
        let Some(input_shape) = run.input_shape() else { return };
        let step = run.record.latest.map_or(0, |p| p.step);
        let inspector = &run.inspector;
        let key = ExplainKey {
            sample: inspector.sample.clone(),
            moment: inspector.moment,
            step: inspector.moment.unwrap_or(step),
            methods,
            options: inspector.explain.clone(),
        };
        let same = |k: &ExplainKey| {
            k.sample == key.sample && k.moment == key.moment && k.methods == key.methods && k.options == key.options
        };
        if let Some((id, last)) = inspector.explain_sent.back().filter(|(_, k)| same(k)) {
            let answered = run.record.explanation.as_ref().is_some_and(|e| e.id == *id);
            let asked = inspector.explain_asked_at.map_or(Duration::MAX, |t| t.elapsed());
            let waiting = !answered && asked < Duration::from_secs(30);
            let up_to_date = last.moment.is_some() || last.step == key.step;
            if inspector.explain_cancelled == Some(*id) || waiting || up_to_date || asked < EXPLAIN_REFRESH {
                return;
            }
        }
        let input = input_of(&key.sample, splits, self.ink, &input_shape);
        let test_len = splits.test.len();
        let Some(run) = self.runs.get_mut(model) else { return };
        let Ok(input) = input else { return };
        let index = match key.sample {
            Sample::Test(i) if i < test_len => i,
            Sample::Test(_) => return,
            _ => 0,
        };
        let inspector = &mut run.inspector;
        inspector.next_id += 1;
        let id = inspector.next_id;
        let request = ExplainRequest {
            id,
            split: Split::Test,
            index,
            input,
            moment: key.moment,
            methods: key.methods.clone(),
            target: key.options.target,
            baseline: key.options.baseline,
            randomisation: key.options.randomisation,
            global: key.options.global,
            visualise: key.options.visualise.clone(),
        };
        inspector.explain_sent.push_back((id, key));
        if inspector.explain_sent.len() > 16 {
            inspector.explain_sent.pop_front();
        }
        inspector.explain_asked_at = Some(Instant::now());
        if let Some(session) = &run.session {
            session.send(Command::Explain(request));
        }
    }

    /// Asks the model's trainer to work out a training step by hand for one weight entry, on the
    /// chosen test sample, with the current weights.
    pub(super) fn work_training_step(&mut self, model: &str, param: String, entry: usize) {
        let Some(run) = self.runs.get_mut(model) else { return };
        let Sample::Test(index) = run.inspector.sample else { return };
        if !run.is_live() {
            return;
        }
        run.inspector.next_id += 1;
        let id = run.inspector.next_id;
        run.inspector.training_sent = Some((id, (index, param.clone(), entry)));
        if let Some(session) = &run.session {
            session.send(Command::WorkTrainingStep(TrainingStepRequest {
                id,
                split: Split::Test,
                index,
                param,
                entry,
            }));
        }
    }

    /// Sets what the model's attribution cells ask for.
    pub(super) fn set_explain_options(&mut self, model: &str, options: ExplainOptions) {
        if let Some(run) = self.runs.get_mut(model) {
            run.inspector.explain = options;
        }
    }

    /// Stops the explanation being worked out (it is asked again when something changes).
    pub(super) fn cancel_explanation(&mut self, model: &str) {
        if let Some(run) = self.runs.get_mut(model) {
            if let Some(session) = &run.session {
                session.cancel_inspection();
            }
            run.record.explaining = None;
            run.inspector.explain_cancelled = run.inspector.explain_sent.back().map(|(id, _)| *id);
        }
    }

    /// At a past moment, an Evaluation cell shows that moment's test results: asked once. At
    /// now, while paused after training, the current weights' results: asked once per step.
    fn ask_moment_evaluation(&mut self, model: &str) {
        let Some(run) = self.runs.get_mut(model) else { return };
        let paused = matches!(run.record.state, RunState::Paused(_));
        let now = run.record.latest.map_or(0, |p| p.step);
        if run.inspector.moment.is_none() && paused && now > 0 {
            let scored = run.record.evaluations.last().is_some_and(|e| e.step >= now);
            if !scored && run.inspector.evaluation_asked != Some(now) {
                if let (Some(session), Some(_)) = (&run.session, run.record.run) {
                    session.send(Command::Evaluate);
                    run.inspector.evaluation_asked = Some(now);
                }
            }
            return;
        }
        let Some(step) = run.inspector.moment else { return };
        if run.record.evaluations.iter().any(|e| e.step == step) || run.inspector.evaluation_asked == Some(step) {
            return;
        }
        if let (Some(session), Some(_)) = (&run.session, run.record.run) {
            session.send(Command::EvaluateAt(step));
            run.inspector.evaluation_asked = Some(step);
        }
    }

    /// Sets the model's sample for every inspection cell.
    pub(super) fn set_sample(&mut self, model: &str, sample: Sample) {
        if let Some(run) = self.runs.get_mut(model) {
            run.inspector.sample = sample;
            run.inspector.problem = None;
            run.inspector.asked_at = None;
        }
    }

    /// Sets the model's moment for every inspection cell (and its decision boundary).
    pub(super) fn set_moment(&mut self, model: &str, moment: Option<usize>) {
        if let Some(run) = self.runs.get_mut(model) {
            run.inspector.moment = moment;
            run.inspector.asked_at = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use glassbox_engine::data::{DataSource, DataSpec, PipelineSpec};

    use super::*;

    #[test]
    fn typed_letters_end_a_character_window_as_the_training_windows_do() {
        let spec = DataSpec {
            source: DataSource::CharWindows {
                text: glassbox_engine::data::TextSource::FirstNames,
                window: 8,
                samples: 500,
                seed: 0,
            },
            pipeline: PipelineSpec::default(),
        };
        let splits = spec.build().expect("builds");
        let vocab = splits.train.vocab.as_ref().expect("characters");
        let (ids, _) = encode_typed(&splits, "mar", 8).expect("a vocabulary");
        let want: Vec<f32> = [0, 0, 0, 0, 0].into_iter().chain(vocab.encode("mar", None)).map(|i| i as f32).collect();
        assert_eq!(ids, want, "padding in front, the letters last");
        let (ids, _) = encode_typed(&splits, "maximiliana", 8).expect("a vocabulary");
        let kept: Vec<usize> = ids.iter().map(|&v| v as usize).collect();
        assert_eq!(vocab.decode(&kept), "imiliana", "the last 8 letters");
    }

    #[test]
    fn typed_text_becomes_the_vocabularys_ids_with_unknown_words_named() {
        let spec =
            DataSpec { source: DataSource::Sentiment { samples: 200, seed: 1 }, pipeline: PipelineSpec::default() };
        let splits = spec.build().expect("builds");
        let length = splits.train.shape[0];
        let (ids, unknown) = encode_typed(&splits, "the film was not good zzqx", length).expect("a vocabulary");
        assert_eq!(ids.len(), length, "padded or cut to the model's length");
        assert_eq!(unknown, ["zzqx"]);
        let vocab = splits.train.vocab.as_ref().expect("vocab");
        let decoded = vocab.decode(&ids.iter().map(|&v| v as usize).collect::<Vec<_>>());
        assert!(decoded.starts_with("the film was not good"), "{decoded}");
        // As the model's input: the same ids, and a drawing or a point of the wrong size is refused.
        let input = input_of(&Sample::Typed("not good".into()), &splits, (0.0, 1.0), &[length]).expect("fits");
        assert_eq!(input.map(|v| v.len()), Some(length));
        let wrong = input_of(&Sample::Point([0.0, 1.0]), &splits, (0.0, 1.0), &[length]);
        assert!(wrong.is_err_and(|e| e.contains("choose a test sample")));
        // A drawing's ink is mapped onto the data's range.
        let toy = DataSpec {
            source: DataSource::Toy2d {
                pattern: glassbox_engine::data::Pattern2d::Xor,
                samples: 50,
                noise: 0.0,
                seed: 0,
            },
            pipeline: PipelineSpec::default(),
        };
        let toy = toy.build().expect("builds");
        let drawn = input_of(&Sample::Drawn(vec![0.0, 0.5, 1.0, 2.0]), &toy, (-2.0, 2.0), &[2, 2]).expect("fits");
        assert_eq!(drawn, Some(vec![-2.0, 0.0, 2.0, 2.0]));
    }
}
