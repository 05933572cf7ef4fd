//! The workspace's examples, run as a user runs them.

use std::path::PathBuf;
use std::process::Command;

/// A command for the example `name`, as `cargo build --examples` (run by `scripts/test.sh`)
/// or a plain `cargo test` builds it next to the test binaries (`target/<profile>/examples/`).
/// Panics with the fix when it is not there: `cargo test --all-targets` builds examples only
/// as test harnesses, and a `--test` filter not at all.
pub fn example(name: &str) -> Command {
    let exe = std::env::current_exe().expect("test binary");
    // target/<profile>/deps/TEST-HASH → target/<profile>/examples/NAME
    let path: PathBuf = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .join("examples")
        .join(name);
    assert!(
        path.is_file(),
        "{} is not built: run `cargo build --examples` first",
        path.display()
    );
    Command::new(path)
}
