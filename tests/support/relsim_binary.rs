//! The relsim binary the tests run.

use std::path::PathBuf;

use assert_cmd::Command;

/// `relsim`, ready for its arguments.
pub fn relsim() -> Command {
    Command::cargo_bin("relsim").expect("the relsim binary is built")
}

/// The relsim binary's path, for tests that start it as a child process of their own (to stop
/// it half-way).
#[allow(dead_code)] // only some test binaries start their own children
pub fn relsim_binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("relsim")
}
