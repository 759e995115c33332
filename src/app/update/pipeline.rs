//! The checkpoints' reads: an app × env's artifacts whenever its tag in git changes, and the
//! backups on start and then on one timer.

use super::super::action::{Action, Effect, TimerKey};
use super::super::pipeline::{ArtifactsEntry, BACKUPS_EVERY_MS};
use super::super::state::State;
use crate::services::s3::{BackupRead, PrefixSummary};

/// Asks for the artifacts of `tag` of the selected app in `env` (the panel shows it reading).
pub(super) fn on_tag(state: &mut State, env: &str, tag: &str, effects: &mut Vec<Effect>) {
    if !state.pipeline.artifacts_configured {
        return;
    }
    let Some(app) = state.selected_app().map(str::to_owned) else {
        return;
    };
    state.pipeline.artifacts.insert(
        (app.clone(), env.to_owned()),
        ArtifactsEntry {
            tag: tag.to_owned(),
            result: None,
        },
    );
    effects.push(Effect::FetchArtifacts {
        app,
        env: env.to_owned(),
        tag: tag.to_owned(),
    });
}

/// How long until missing or unreadable artifacts are listed again.
const ARTIFACTS_AGAIN_MS: u64 = 30_000;

pub(super) fn artifacts_loaded(
    state: &mut State,
    app: String,
    env: String,
    tag: &str,
    result: Result<PrefixSummary, String>,
    effects: &mut Vec<Effect>,
) {
    // Missing now is not missing for good: the build's sync step may still be running. Found
    // artifacts stay found (builds are not deleted under a tag), so they are not asked again.
    let again = !matches!(&result, Ok(s) if s.objects > 0);
    match state
        .pipeline
        .artifacts
        .get_mut(&(app.clone(), env.clone()))
    {
        // An answer for a tag the env no longer has: newest request wins.
        Some(entry) if entry.tag == tag => entry.result = Some(result),
        _ => return,
    }
    if again {
        effects.push(Effect::Schedule {
            key: TimerKey::Artifacts {
                app: app.clone(),
                env: env.clone(),
            },
            after_ms: ARTIFACTS_AGAIN_MS,
            action: Box::new(Action::RefreshArtifacts {
                app,
                env,
                tag: tag.to_owned(),
            }),
        });
    }
}

/// The timer fired: list again, the last answer staying on screen until the new one.
pub(super) fn refresh_artifacts(
    state: &State,
    app: String,
    env: String,
    tag: String,
    effects: &mut Vec<Effect>,
) {
    let current = state
        .pipeline
        .artifacts_of(&app, &env)
        .is_some_and(|e| e.tag == tag);
    if current {
        effects.push(Effect::FetchArtifacts { app, env, tag });
    }
}

/// Reads the backups now and schedules the next read.
pub(super) fn refresh_backups(state: &State, effects: &mut Vec<Effect>) {
    if !state.pipeline.backups_configured {
        return;
    }
    effects.push(Effect::ReadBackups);
    effects.push(Effect::Schedule {
        key: TimerKey::Backups,
        after_ms: BACKUPS_EVERY_MS,
        action: Box::new(Action::RefreshBackups),
    });
}

pub(super) fn backups_loaded(state: &mut State, result: Result<Vec<BackupRead>, String>) {
    state.pipeline.backups = Some(result);
}

/// Asks once for the last log lines of each failed migration Job the watches show.
pub(super) fn failed_migrations(state: &mut State, effects: &mut Vec<Effect>) {
    use crate::services::kube::migrations::MigrationState;
    for (env, live) in &state.live.envs {
        for job in live.migrations.iter().flatten() {
            let key = format!("{}/{}", job.namespace, job.name);
            if job.state == MigrationState::Failed
                && !state.pipeline.migration_logs.contains_key(&key)
            {
                state.pipeline.migration_logs.insert(key, None);
                effects.push(Effect::FetchMigrationLogs {
                    env: env.clone(),
                    job: job.clone(),
                });
            }
        }
    }
}

pub(super) fn migration_logs(state: &mut State, job: String, result: Result<Vec<String>, String>) {
    state.pipeline.migration_logs.insert(job, Some(result));
}
