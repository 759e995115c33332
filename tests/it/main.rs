//! One integration-test binary: every module drives the real library (and, where it matters,
//! the real binary and real outside programs) against local stand-ins on 127.0.0.1.

mod inventory;
mod tmpclean;
