//! Build-time facts for the crate:
//! - rebuilds it when anything under `ui/` changes. `include_dir!` tracks the
//!   files it embedded, but not files added to or removed from the folder, so
//!   without this a new dashboard asset would be missing from the binary;
//! - `SWITCHBOARD_GIT_COMMIT`: the commit the binary was built from, for
//!   `--version` (bug reports name a commit, not only a version). A build from
//!   a source tarball (no git) passes it in the environment, or gets "unknown".

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=ui");
    println!("cargo:rerun-if-env-changed=SWITCHBOARD_GIT_COMMIT");
    let commit = std::env::var("SWITCHBOARD_GIT_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=SWITCHBOARD_GIT_COMMIT={commit}");
}

/// The short hash of HEAD, and a rerun trigger on HEAD's reflog (it changes
/// on every commit and checkout, also in a worktree, where `.git` is a file).
fn git_commit() -> Option<String> {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"])?;
    for path in ["HEAD", "logs/HEAD"] {
        if let Some(p) = git(&["rev-parse", "--git-path", path]) {
            if Path::new(&p).exists() {
                println!("cargo:rerun-if-changed={p}");
            }
        }
    }
    Some(commit)
}
