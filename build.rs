//! Rebuilds the crate when anything under `ui/` changes. `include_dir!` tracks
//! the files it embedded, but not files added to or removed from the folder,
//! so without this a new dashboard asset would be missing from the binary.

fn main() {
    println!("cargo:rerun-if-changed=ui");
}
