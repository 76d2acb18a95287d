//! status tests.
