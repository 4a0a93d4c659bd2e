//! Where Postwerk keeps its files, without needing a Tauri `AppHandle`, so the app, the CLI
//! and tests agree on one data folder.

use std::path::{Path, PathBuf};

/// Environment variable that moves every Postwerk file (tests, portable use).
pub const DATA_DIR_ENV: &str = "POSTWERK_DATA_DIR";

#[derive(Debug, Clone)]
pub struct AppPaths {
    data_dir: PathBuf,
}

impl AppPaths {
    /// An explicit folder (the CLI's `--data-dir`), else `POSTWERK_DATA_DIR`, else the OS
    /// app-data folder (`~/.local/share/postwerk` on Linux,
    /// `~/Library/Application Support/app.postwerk.Postwerk` on macOS,
    /// `%APPDATA%\postwerk\Postwerk\data` on Windows).
    pub fn resolve(explicit: Option<PathBuf>) -> crate::Result<Self> {
        if let Some(dir) = explicit {
            return Ok(Self::at(dir));
        }
        if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
            return Ok(Self::at(PathBuf::from(dir)));
        }
        let dirs =
            directories::ProjectDirs::from("app", "postwerk", "Postwerk").ok_or_else(|| {
                crate::Error::io(
                    "finding the app-data folder",
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("no home folder found; set {DATA_DIR_ENV}"),
                    ),
                )
            })?;
        Ok(Self::at(dirs.data_dir().to_path_buf()))
    }

    pub fn at(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn database(&self) -> PathBuf {
        self.data_dir.join("postwerk.db")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }

    /// A short, stable name for this data folder (FNV-1a of its path), so that "one instance"
    /// means one instance per data folder: a portable copy or a test folder does not hand its
    /// launch to the instance that owns the default folder.
    pub fn instance_id(&self) -> String {
        let path = std::fs::canonicalize(&self.data_dir).unwrap_or_else(|_| self.data_dir.clone());
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in path.as_os_str().as_encoded_bytes() {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("d{hash:016x}")
    }

    /// Creates the data and log folders when missing.
    pub fn ensure(&self) -> crate::Result<()> {
        for dir in [self.data_dir.clone(), self.log_dir()] {
            std::fs::create_dir_all(&dir)
                .map_err(|e| crate::Error::io(format!("creating {}", dir.display()), e))?;
        }
        Ok(())
    }
}

/// Ownership of a data folder by one publishing process (the app or `postwerk daemon`), so a
/// scheduled post is never handled by two schedulers. Released when dropped (or when the
/// process dies: the OS drops the lock with the file handle).
#[derive(Debug)]
pub struct DataLock {
    _file: std::fs::File,
}

impl DataLock {
    /// Takes the lock or says who holds it.
    pub fn acquire(paths: &AppPaths, owner: &str) -> crate::Result<Self> {
        use std::io::{Read, Seek, Write};
        paths.ensure()?;
        let path = paths.data_dir().join("postwerk.lock");
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| crate::Error::io(format!("opening {}", path.display()), e))?;
        match file.try_lock() {
            Ok(()) => {
                let _ = file.set_len(0);
                let _ = file.rewind();
                let _ = write!(file, "{owner} (pid {})", std::process::id());
                Ok(Self { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                Err(crate::Error::Conflict(format!(
                    "{} is already running on {} and publishes its posts; quit it first (only one of the app and `postwerk daemon` may own a data folder)",
                    if holder.is_empty() {
                        "another Postwerk"
                    } else {
                        holder
                    },
                    paths.data_dir().display()
                )))
            }
            Err(std::fs::TryLockError::Error(e)) => {
                Err(crate::Error::io(format!("locking {}", path.display()), e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_folder_wins_and_files_live_inside_it() {
        let paths = AppPaths::resolve(Some(PathBuf::from("/tmp/pw-explicit"))).unwrap();
        assert_eq!(paths.data_dir(), Path::new("/tmp/pw-explicit"));
        assert_eq!(paths.database(), Path::new("/tmp/pw-explicit/postwerk.db"));
        assert_eq!(paths.log_dir(), Path::new("/tmp/pw-explicit/logs"));
    }

    #[test]
    fn only_one_owner_at_a_time_and_the_second_is_told_who() {
        let dir = tempfile::tempdir().unwrap();
        let paths = AppPaths::at(dir.path());
        let first = DataLock::acquire(&paths, "postwerk daemon").unwrap();
        let err = DataLock::acquire(&paths, "the Postwerk app")
            .unwrap_err()
            .to_string();
        assert!(err.contains("postwerk daemon (pid"), "{err}");
        assert!(err.contains("quit it first"), "{err}");
        drop(first);
        DataLock::acquire(&paths, "the Postwerk app").unwrap();
    }

    #[test]
    fn instance_id_is_stable_per_folder_and_differs_between_folders() {
        let a = AppPaths::at("/tmp/pw-instance-a");
        assert_eq!(
            a.instance_id(),
            AppPaths::at("/tmp/pw-instance-a").instance_id()
        );
        assert_ne!(
            a.instance_id(),
            AppPaths::at("/tmp/pw-instance-b").instance_id()
        );
        assert!(a.instance_id().starts_with('d') && a.instance_id().len() == 17);
    }
}
