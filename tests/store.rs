//! History store tests.
