//! `shipdeck events APP --env E`: the timeline the cockpit's `e` shows, listed once (not
//! watched): the app's Kubernetes Events in the env and shipdeck's own journal lines, newest
//! first, merged by the same code as the view.

use super::{Ctx, Exit, Failure, Outcome};
use crate::app::timeline::{Row, Source, TimelineView};
use crate::cli::events::EventsArgs;
use crate::services::kube::client::request_client;
use crate::services::kube::timeline::{list, plan};

pub async fn run(ctx: &Ctx, args: EventsArgs) -> Outcome {
    let inv = ctx.inventory()?;
    let (scope, watched) = plan(&inv, &args.app, &args.env).map_err(Failure::bad_input)?;
    let mut view = TimelineView {
        app: args.app.clone(),
        env: args.env.clone(),
        ..TimelineView::default()
    };
    for w in watched {
        let client = request_client(&w.target)
            .await
            .map_err(|e| Failure::from(crate::ops::rollout::kube_error(&e)))?;
        let events = list(&client, &w.namespace, &scope).await.map_err(|e| {
            Failure::new(
                Exit::Remote,
                format!("{} events in {}: {e}", w.source, w.namespace),
            )
        })?;
        view.sources.insert(
            w.source.to_owned(),
            Source {
                events,
                listed: true,
                error: None,
            },
        );
    }
    let journal = crate::audit::Journal::new(ctx.paths.audit_journal());
    view.journal = Some(journal.read_all().map_err(|e| e.to_string()));
    let rows = view.rows();
    ctx.emit(&rows, |rows: &Vec<Row>| table(rows));
    Ok(())
}

fn table(rows: &[Row]) -> String {
    if rows.is_empty() {
        return "no events for this app in this env".to_owned();
    }
    let lines: Vec<String> = rows
        .iter()
        .map(|r| {
            let time = r.time.map_or_else(|| "-".to_owned(), |t| t.to_string());
            format!(
                "{time}  {:<8} {} {}: {}",
                r.kind, r.object, r.reason, r.message
            )
        })
        .collect();
    lines.join("\n")
}
