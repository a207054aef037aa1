//! The module under test, as the fake hosts of this workspace's tests load it (`#[path]`-
//! included): a private copy of the built `.so`, so each test has its own module state, with
//! lookups in its export table. The copy is removed when the test drops it.

#![allow(dead_code)]

use std::ffi::{CStr, c_int};
use std::path::{Path, PathBuf};

use kamailio_module::sys::{CmdExport, ModuleExports, ParamExport};

pub struct Module {
    pub lib: libloading::Library,
    dir: PathBuf,
}

impl Drop for Module {
    fn drop(&mut self) {
        // The copy stays mapped until the library is dropped; unlinking it is fine on Linux.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Module {
    /// Loads a private copy of `built`, named `<name>.so` in a directory of this thread's.
    pub fn load_copy(built: &Path, name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "{name}-fake-host-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let copy = dir.join(format!("{name}.so"));
        std::fs::copy(built, &copy).unwrap();
        // SAFETY: loading the module under test; its constructors are Rust's (none of ours).
        let lib = unsafe { libloading::Library::new(&copy) }.expect("dlopen the module");
        Self { lib, dir }
    }

    pub fn exports(&self) -> &ModuleExports {
        unsafe { &**self.lib.get::<*const ModuleExports>(b"exports\0").unwrap() }
    }

    /// The entry of `name` in the NULL-terminated command table.
    pub fn cmd(&self, name: &str) -> &CmdExport {
        let mut p = self.exports().cmds;
        loop {
            let c = unsafe { &*p };
            assert!(!c.name.is_null(), "no command {name}");
            if unsafe { CStr::from_ptr(c.name) }.to_str() == Ok(name) {
                return c;
            }
            p = unsafe { p.add(1) };
        }
    }

    /// Every entry of the NULL-terminated parameter table, in order.
    pub fn params(&self) -> Vec<&ParamExport> {
        let mut out = Vec::new();
        let mut p = self.exports().params;
        loop {
            let e = unsafe { &*p };
            if e.name.is_null() {
                return out;
            }
            out.push(e);
            p = unsafe { p.add(1) };
        }
    }

    /// The entry of `name` in the parameter table.
    pub fn param(&self, name: &str) -> &ParamExport {
        self.params()
            .into_iter()
            .find(|e| unsafe { CStr::from_ptr(e.name) }.to_str() == Ok(name))
            .unwrap_or_else(|| panic!("no param {name}"))
    }

    pub fn mod_init(&self) -> c_int {
        unsafe { (self.exports().init_mod_f.expect("mod_init"))() }
    }
}
