//! Fresh private directories for one test's files (a stack's configs and logs, one client's
//! config), under the system temp dir.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A new empty directory `kamailio-test-<kind>[-<label>]-<pid>-<n>-<nanos>`, unique per
/// process and call; `label` (a user name, say) is cut to 16 ASCII letters and digits.
pub fn fresh(kind: &str, label: &str) -> io::Result<PathBuf> {
    static N: AtomicU32 = AtomicU32::new(0);
    let label: String = label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(16)
        .collect();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let label = if label.is_empty() {
        String::new()
    } else {
        format!("-{label}")
    };
    let dir = std::env::temp_dir().join(format!(
        "kamailio-test-{kind}{label}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_call_makes_a_new_empty_directory() {
        let a = super::fresh("unit", "bob@x/é").unwrap();
        let b = super::fresh("unit", "").unwrap();
        assert_ne!(a, b);
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("kamailio-test-unit-bobx-"), "{name}");
        assert!(
            b.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("kamailio-test-unit-")
        );
        assert_eq!(std::fs::read_dir(&a).unwrap().count(), 0);
        std::fs::remove_dir_all(a).unwrap();
        std::fs::remove_dir_all(b).unwrap();
    }
}
