//! The peak resident set of the processes a test binary has run, for memory tests. Each such
//! test lives in a binary of its own, so that the peak is its runs' alone.

/// The largest resident set of the children this process has waited for, in bytes.
pub fn peak_rss_of_children() -> u64 {
    // SAFETY: getrusage fills the struct we pass and has no other preconditions.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let status = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(status, 0);
    // Linux reports ru_maxrss in KiB.
    usage.ru_maxrss as u64 * 1024
}
