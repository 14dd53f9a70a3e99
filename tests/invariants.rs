//! The invariants ARCHITECTURE.md states, each enforced here: a period allocates nothing; the
//! pure modules do no IO and read no clock; only `experiment` starts threads; the model's
//! arithmetic uses no function whose precision the platform decides.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fs;
use std::path::{Path, PathBuf};

use relsim::engine::{ReplicationSeeds, Run, World};
use relsim::scenario::{parse, presets, Override};

/// Counts the allocations made by the current thread, so that other tests running at the same
/// time do not disturb the count.
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn a_period_allocates_nothing() {
    let networks = [
        "network={kind=\"watts_strogatz\",mean_degree=8,rewiring=0.1}",
        "network={kind=\"barabasi_albert\",mean_degree=6}",
        "network={kind=\"mixed\"}",
        "network={kind=\"none\"}",
    ];
    let default = presets::find("default").unwrap();
    // Three chunks, the last one short.
    let population = 2 * relsim::engine::CHUNK_CUSTOMERS + 1000;
    for network in networks {
        let overrides: Vec<Override> = [
            format!("market.population={population}"),
            format!("market.initial_active={}", population / 10),
            "periods=36".to_string(),
            network.to_string(),
        ]
        .iter()
        .map(|o| Override::parse(o).unwrap())
        .collect();
        let scenario = parse(default.text, "default", &overrides).unwrap();
        let seeds = ReplicationSeeds::derive(scenario.seed(), 0);
        let world = World::generate(scenario.model(), &seeds);
        for (strategy_idx, strategy) in scenario.strategies().iter().enumerate() {
            let config = scenario.run_config(strategy_idx);
            let mut run = Run::new(&config, &world, &seeds);
            let mut periods = 0;
            let mut allocating_periods = Vec::new();
            loop {
                let before = allocations();
                let Some(record) = run.step() else { break };
                std::hint::black_box(record);
                periods += 1;
                if allocations() != before {
                    allocating_periods.push((periods, allocations() - before));
                }
            }
            assert_eq!(periods, 36);
            assert!(
                allocating_periods.is_empty(),
                "{} under {network}: (period, allocations) {allocating_periods:?}",
                strategy.name
            );
        }
    }
}

/// The source files of a module, with comments and `#[cfg(test)]` modules left out.
fn production_sources(module: &str) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(module);
    let mut files = Vec::new();
    let mut pending = vec![root];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path).unwrap();
            let production = text.split("#[cfg(test)]").next().unwrap_or("");
            let code: String = production
                .lines()
                .map(|line| line.split("//").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n");
            files.push((path, code));
        }
    }
    assert!(!files.is_empty(), "no sources under src/{module}");
    files
}

/// Fails naming every file of `modules` whose production code contains one of `forbidden`.
fn assert_absent(modules: &[&str], forbidden: &[&str], rule: &str) {
    let mut offences = Vec::new();
    for module in modules {
        for (path, code) in production_sources(module) {
            for token in forbidden {
                if code.contains(token) {
                    offences.push(format!("{}: {token}", path.display()));
                }
            }
        }
    }
    assert!(offences.is_empty(), "{rule}:\n{}", offences.join("\n"));
}

#[test]
fn model_strategy_engine_and_stats_do_no_io() {
    assert_absent(
        &["model", "strategy", "engine", "stats", "stories"],
        &[
            "std::fs",
            "std::io",
            "std::net",
            "std::env",
            "std::process",
            "std::time",
            "File::",
            "Instant",
            "SystemTime",
            "println!",
            "print!",
            "eprintln!",
            "eprint!",
            "dbg!",
            "stdout",
            "stderr",
        ],
        "model, strategy, engine, stats and stories open no files, print nothing and read no clock",
    );
}

#[test]
fn only_experiment_starts_threads() {
    let others = [
        "model", "strategy", "engine", "stats", "scenario", "output", "plot", "report", "sweep",
        "verify", "stories",
    ];
    assert_absent(
        &others,
        &["rayon", "thread::spawn", "thread::scope", "std::thread"],
        "only experiment uses threads",
    );
}

#[test]
fn the_models_arithmetic_uses_no_platform_dependent_functions() {
    // sqrt, the basic operations and mul_add are exact in IEEE 754; these are not.
    assert_absent(
        &["model", "engine", "stats", "sweep"],
        &[
            ".powi(", ".powf(", ".exp(", ".exp2(", ".exp_m1(", ".ln(", ".ln_1p(", ".log(",
            ".log2(", ".log10(", ".sin(", ".cos(", ".tan(", ".asin(", ".acos(", ".atan(",
            ".atan2(", ".sinh(", ".cosh(", ".tanh(", ".cbrt(", ".hypot(", ".gamma(",
        ],
        "the model's arithmetic goes through model::math, the same on every platform",
    );
}
