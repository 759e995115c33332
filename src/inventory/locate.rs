use std::path::{Path, PathBuf};

use super::InventoryError;

pub(super) fn locate(
    explicit: Option<&Path>,
    config_dir: &Path,
) -> Result<PathBuf, InventoryError> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("SHIPDECK_INVENTORY").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let default = config_dir.join("inventory.yaml");
    if default.is_file() {
        Ok(default)
    } else {
        Err(InventoryError::NotFound {
            tried: vec![
                PathBuf::from("--inventory"),
                PathBuf::from("$SHIPDECK_INVENTORY"),
                default,
            ],
        })
    }
}
