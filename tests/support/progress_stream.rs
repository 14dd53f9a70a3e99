//! Reading and checking the JSON lines `--progress json` writes (docs in
//! `src/commands/progress.rs`).

/// The JSON lines `--progress json` wrote to standard error.
pub fn progress_lines(stderr: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stderr)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
        .collect()
}

/// Asserts a progress stream: from 0 done to all `total` done, never going back, each line
/// with its timing, `null` ETA only before the first unit.
pub fn assert_progress_stream(lines: &[serde_json::Value], units: &str, total: u64) {
    assert!(lines.len() >= 2, "{lines:?}");
    let first = &lines[0];
    assert_eq!(first["event"], "progress");
    assert_eq!(first["done"], 0);
    assert!(first["eta_seconds"].is_null());
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "finished");
    assert_eq!(last["done"], total);
    let mut done = 0;
    for line in lines {
        assert_eq!(line["units"], units);
        assert_eq!(line["total"], total);
        assert!(line["elapsed_seconds"].as_f64().unwrap() >= 0.0);
        let now = line["done"].as_u64().unwrap();
        assert!(now >= done, "{lines:?}");
        if now > 0 {
            assert!(line["eta_seconds"].as_f64().unwrap() >= 0.0);
        }
        done = now;
    }
}
