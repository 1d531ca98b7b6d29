//! The model as data: layer specs, the graph, and shape inference.

mod docs;
pub mod edit;
pub mod examples;
mod fit;
pub mod layout;
mod shape;
mod spec;

pub use docs::ParamDoc;
pub use fit::{fit_to_data, Fitted, OutputNeed};
pub use shape::{
    infer_shapes, multiply_adds, numel, param_count, param_shapes, shape_text, NodeInfo, Problem, ShapeReport,
};
pub use spec::{Cell, EdgeSpec, GraphSpec, LayerKind, LayerSpec, NodeId, NodeSpec, Recurrent, SequencePooling};
