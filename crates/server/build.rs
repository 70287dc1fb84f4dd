//! Rebuilds the server when a migration changes: `embed_migrations!` reads the SQL files at
//! compile time, and cargo does not track them otherwise (diesel_migrations' advice).

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
