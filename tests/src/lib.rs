//! Harness for interop tests against real peers started on loopback.
