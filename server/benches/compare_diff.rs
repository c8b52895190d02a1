//! Compare diff benchmark (`make bench`): the diff engine on 5 MB of a55-like JSON per side, the way
//! the server runs it for a compare (parse both bodies, diff, ignore rules, side-by-side rows, the
//! change list and the export list), in each mode.
//!
//! A plain timing loop (no harness): it prints a Markdown table to paste into BENCHMARKS.md and
//! fails if a median passes the one-second target.

// A benchmark measures real elapsed time from outside the console.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a benchmark that cannot run should stop")]

use std::time::{Duration, Instant};

use app::wire::{DiffOptions, MAX_EXPORTED_CHANGES};
use console_server::diff::diff_bodies_for_export;
use console_server::simulator::{large_charge_list, production_drift};

const RUNS: usize = 7;
const TARGET: Duration = Duration::from_secs(1);

fn main() {
    let mb: f64 = std::env::var("BENCH_DIFF_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(5.0);
    let left = large_charge_list((mb * 1_000_000.0) as usize);
    let mut drifted: serde_json::Value = serde_json::from_slice(&left).unwrap();
    production_drift(&mut drifted);
    let right = serde_json::to_vec(&drifted).unwrap();
    let records = drifted["data"].as_array().map_or(0, Vec::len);
    println!(
        "Left {:.2} MB, right {:.2} MB, {records} charges per side; {RUNS} runs each, median and max.\n",
        left.len() as f64 / 1e6,
        right.len() as f64 / 1e6
    );
    let defaults = DiffOptions::defaults();
    let keyed = DiffOptions { array_key: Some("charge_uuid".into()), ..DiffOptions::defaults() };
    let shape = DiffOptions { shape_only: true, ..DiffOptions::defaults() };
    let bare = DiffOptions::default();
    let scenarios: [(&str, &[u8], &DiffOptions); 5] = [
        ("identical bodies, default ignore rules", &left, &defaults),
        ("sandbox vs production, by index, default ignore rules", &right, &defaults),
        ("sandbox vs production, keyed by `charge_uuid`", &right, &keyed),
        ("sandbox vs production, shape only", &right, &shape),
        ("sandbox vs production, no ignore rules", &right, &bare),
    ];
    println!("| Scenario | changes (ignored) | rows | median | max |\n| --- | --- | --- | --- | --- |");
    let mut worst = Duration::ZERO;
    for (name, other, options) in scenarios {
        let mut times = Vec::with_capacity(RUNS);
        let mut last = None;
        for _ in 0..RUNS {
            let started = Instant::now();
            let (diff, exported) =
                diff_bodies_for_export(Some(&left), Some(other), options, MAX_EXPORTED_CHANGES).unwrap();
            times.push(started.elapsed());
            last = Some((diff, exported.len()));
        }
        times.sort();
        let (diff, _) = last.unwrap();
        let median = times[RUNS / 2];
        worst = worst.max(median);
        println!(
            "| {name} | {} ({}) | {} | {:.0} ms | {:.0} ms |",
            diff.counts.total(),
            diff.ignored,
            diff.rows.len(),
            median.as_secs_f64() * 1000.0,
            times[RUNS - 1].as_secs_f64() * 1000.0
        );
    }
    assert!(worst < TARGET, "a median of {worst:?} misses the {TARGET:?} target");
}
