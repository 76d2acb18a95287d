//! Health decisions: one moment's assessment (`assess`) and its course over time
//! (`machine`). Both are pure; the engine owns the instances and the clock.

pub(crate) mod assess;
pub mod budget;
pub(crate) mod machine;

pub(crate) use assess::{assess, Assessment};
pub use machine::{Context, HealthMachine, IncidentRecord, Observation, Sample, Thresholds, Transition};
