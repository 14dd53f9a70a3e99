//! Checking the time split a folder's `manifest.json` records (where the replications' time
//! went: building worlds against simulating strategies).

use std::path::Path;

/// Asserts that the manifest in `out` records a time split: both phases timed, their sum within
/// the threads' time (each phase is timed inside the wall time, on at most `threads` threads at
/// once; for a merge, the parts' wall times and their most threads).
pub fn assert_time_split_recorded(out: &Path) {
    let text = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    let split = &manifest["time_split"];
    let world = split["world_build_seconds"].as_f64().unwrap();
    let simulation = split["simulation_seconds"].as_f64().unwrap();
    assert!(world > 0.0 && simulation > 0.0, "{split}");
    let wall = manifest["wall_time_seconds"].as_f64().unwrap();
    let threads = manifest["threads"].as_f64().unwrap();
    assert!(
        world + simulation <= wall * threads,
        "{split} in {wall} s on {threads} threads"
    );
}
