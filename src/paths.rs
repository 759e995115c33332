//! Where shipdeck keeps its config, data (working clones) and state (logs, audit journal).

use std::path::{Path, PathBuf};

use serde::Serialize;

/// The three folders; env overrides first, then the platform's usual places.
#[derive(Debug, Clone, Serialize)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub state_dir: PathBuf,
}

impl Paths {
    /// `SHIPDECK_CONFIG`, `SHIPDECK_DATA`, `SHIPDECK_STATE`, else `directories::ProjectDirs`
    /// (state falls back to `<data>/state` where the platform has no state dir).
    pub fn from_env() -> Self {
        let dirs = directories::ProjectDirs::from("dev", "shipdeck", "shipdeck");
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let fallback = std::env::temp_dir().join("shipdeck");
        let config_dir = env("SHIPDECK_CONFIG")
            .or_else(|| dirs.as_ref().map(|d| d.config_dir().to_path_buf()))
            .unwrap_or_else(|| fallback.join("config"));
        let data_dir = env("SHIPDECK_DATA")
            .or_else(|| dirs.as_ref().map(|d| d.data_dir().to_path_buf()))
            .unwrap_or_else(|| fallback.join("data"));
        let state_dir = env("SHIPDECK_STATE")
            .or_else(|| {
                dirs.as_ref()
                    .and_then(|d| d.state_dir().map(Path::to_path_buf))
            })
            .unwrap_or_else(|| data_dir.join("state"));
        Paths {
            config_dir,
            data_dir,
            state_dir,
        }
    }

    /// All three under one root: tests and the demo use this to stay self-contained.
    pub fn under(root: &Path) -> Self {
        Paths {
            config_dir: root.join("config"),
            data_dir: root.join("data"),
            state_dir: root.join("state"),
        }
    }

    pub fn log_dir(&self) -> PathBuf {
        self.state_dir.join("logs")
    }

    pub fn audit_journal(&self) -> PathBuf {
        self.state_dir.join("audit.jsonl")
    }

    pub fn keymap_override(&self) -> PathBuf {
        self.config_dir.join("keymap.yaml")
    }
}
