//! Rebuilds the crate when a migration changes: they are embedded by `refinery::embed_migrations!`.

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
