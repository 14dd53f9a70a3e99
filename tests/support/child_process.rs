//! Stopping a relsim child process by a signal, for the tests of what an interrupted command
//! leaves behind.

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// Sends `signal` to `child` and waits for it to exit; fails the test if it is still running
/// `patience` later.
pub fn stop_by_signal(child: &mut Child, signal: i32, patience: Duration) -> ExitStatus {
    // SAFETY: kill(2) on our own child's process id has no memory-safety preconditions.
    let sent = unsafe { libc::kill(child.id() as i32, signal) };
    assert_eq!(sent, 0, "signal {signal} not delivered");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            started.elapsed() < patience,
            "still running {patience:?} after signal {signal}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
