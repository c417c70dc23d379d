//! Secrets the server keeps in its data folder when none is configured: made on first start,
//! readable only by the server's user, the same for every process sharing the folder.

use rand::RngCore;
use std::{io::Write, path::Path};

/// The configured secret (at least 32 characters; `setting` names it in the error), or the one
/// kept in `data_dir/file`, made on first start.
pub fn kept_secret(configured: Option<&str>, setting: &str, data_dir: &Path, file: &str) -> std::io::Result<String> {
    if let Some(s) = configured {
        if s.len() < 32 {
            return Err(std::io::Error::other(format!("{setting} must be at least 32 characters")));
        }
        return Ok(s.to_owned());
    }
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join(file);
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let fresh = hex::encode(bytes);
    // create_new: two processes starting at once agree on whichever wrote first.
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
        Ok(mut f) => {
            restrict_permissions(&path)?;
            f.write_all(fresh.as_bytes())?;
            f.sync_all()?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let secret = std::fs::read_to_string(&path)?;
    if secret.trim().len() < 32 {
        // A file cut short by a crash mid-write: the writer is gone, so replace it.
        std::fs::write(&path, &fresh)?;
        return Ok(fresh);
    }
    Ok(secret.trim().to_owned())
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict_permissions(_: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_secret_is_made_once_and_each_file_is_its_own() {
        let dir = std::env::temp_dir().join(format!("fxs-keys-{}", rand::random::<u64>()));
        let a = kept_secret(None, "X", &dir, "one").expect("first");
        assert_eq!(a.len(), 64);
        assert_eq!(kept_secret(None, "X", &dir, "one").expect("again"), a);
        assert_ne!(kept_secret(None, "X", &dir, "two").expect("other"), a);
        let short = kept_secret(Some("too short"), "FXS_X", &dir, "one").expect_err("short");
        assert!(short.to_string().contains("FXS_X"), "{short}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
