//! keyring tests.
