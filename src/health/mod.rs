//! Health decisions: one moment's assessment (`assess`) and its course over time
//! (`machine`). Both are pure; the engine owns the instances and the clock.

pub mod assess;
pub mod budget;
pub mod machine;

pub use assess::{assess, Assessment};
pub use machine::{Context, HealthMachine, IncidentRecord, Observation, Sample, Thresholds, Transition};
