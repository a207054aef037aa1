//! The C API as a C module sees it: `tests/c/consumer.c` is compiled against the committed
//! `include/pua_xmpp.h` (gcc, -Wall -Werror) and run against the built module.

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn c_program_binds_and_calls_every_function() {
    let module = kamailio_test_stack::rust_pua_xmpp_module();
    let bin = std::env::temp_dir().join(format!("pua_xmpp_c_consumer_{}", std::process::id()));
    let cc = Command::new("gcc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&bin)
        .arg(repo().join("tests/c/consumer.c"))
        .arg("-I")
        .arg(repo().join("include"))
        .arg("-ldl")
        .output()
        .expect("run gcc");
    assert!(
        cc.status.success(),
        "gcc failed:\n{}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let run = Command::new(&bin)
        .arg(&module)
        .output()
        .expect("run the C consumer");
    let _ = std::fs::remove_file(&bin);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "C consumer failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("all C API checks passed"), "{stdout}");
}
