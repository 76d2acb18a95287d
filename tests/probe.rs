//! probe tests.
