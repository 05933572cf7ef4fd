//! The workspace's examples, run as a user runs them.

use std::path::PathBuf;
use std::process::Command;

/// A command for the example `name`, which `cargo test` builds next to the test binaries
/// (`target/<profile>/examples/`). Panics with the fix when it was not built (a `--test`
/// filter skips building examples).
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
        "{} is not built: run the crate's tests without a --test filter, or add --examples",
        path.display()
    );
    Command::new(path)
}
