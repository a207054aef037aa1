//! Test link flags: the fake-host tests provide the core's symbols from the test executable.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-arg-tests=-rdynamic");
}
