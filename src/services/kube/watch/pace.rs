//! How often a failing watch asks again. A lost connection is retried after a short jittered
//! delay that never grows past ~3 s, so a restarted API server is back on screen within
//! seconds however long it was down. A 403 is not an outage: the kind is asked again only on a
//! slow clock (RBAC changes by hand, rarely; a tight loop would only fill the audit log).

use std::time::Duration;

use futures::{Stream, StreamExt};
use kube::runtime::watcher;

use crate::services::retry::Backoff;

/// Retries of a lost connection: 0.25-0.5 s, then doubling to at most 1.5-3 s.
pub const RECONNECT: Backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(3));

/// How long a kind the server refused (403) waits before it is asked again.
pub const FORBIDDEN_RECHECK: Duration = Duration::from_secs(60);

/// The verb a refused watch error was for, when the server refused it (403).
pub fn forbidden_verb(e: &watcher::Error) -> Option<&'static str> {
    use watcher::Error as W;
    let (verb, code) = match e {
        W::InitialListFailed(kube::Error::Api(s)) => ("list", s.code),
        W::WatchStartFailed(kube::Error::Api(s)) | W::WatchFailed(kube::Error::Api(s)) => {
            ("watch", s.code)
        }
        W::WatchError(s) => ("watch", s.code),
        _ => return None,
    };
    (code == 403).then_some(verb)
}

/// The delay after an error: the slow clock for a 403, the reconnect schedule otherwise.
fn delay_after(e: &watcher::Error, retry: u32) -> Duration {
    if forbidden_verb(e).is_some() {
        FORBIDDEN_RECHECK
    } else {
        RECONNECT.delay(retry)
    }
}

/// Passes a watcher's items through; after an error it sleeps, then starts a fresh watcher
/// from `start`. A fresh one lists again, as client-go's reflector does after a failed watch:
/// its `InitDone` is what tells the screen the cluster is back (a resumed watch on a quiet
/// namespace would say nothing at all), and it replaces whatever changed while it was down. A
/// success resets the schedule.
pub fn pace<T, S>(
    start: impl Fn() -> S + Send,
) -> impl Stream<Item = Result<T, watcher::Error>> + Send
where
    S: Stream<Item = Result<T, watcher::Error>> + Send + Unpin,
    T: Send,
{
    futures::stream::unfold(
        (start, None::<S>, 0u32, None::<Duration>),
        |(start, stream, retries, wait)| async move {
            if let Some(d) = wait {
                tokio::time::sleep(d).await;
            }
            let mut stream = stream.unwrap_or_else(&start);
            let item = stream.next().await?;
            let (stream, retries, wait) = match &item {
                Ok(_) => (Some(stream), 0, None),
                Err(e) => {
                    let n = retries.saturating_add(1);
                    (None, n, Some(delay_after(e, n)))
                }
            };
            Some((item, (start, stream, retries, wait)))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn api(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(Status {
            code,
            message: "m".into(),
            ..Default::default()
        }))
    }

    #[test]
    fn only_a_403_is_forbidden_and_it_names_the_verb() {
        use watcher::Error as W;
        assert_eq!(
            forbidden_verb(&W::InitialListFailed(api(403))),
            Some("list")
        );
        assert_eq!(
            forbidden_verb(&W::WatchStartFailed(api(403))),
            Some("watch")
        );
        assert_eq!(forbidden_verb(&W::InitialListFailed(api(500))), None);
        assert_eq!(forbidden_verb(&W::NoResourceVersion), None);
    }

    #[test]
    fn reconnects_never_wait_longer_than_three_seconds() {
        let e = watcher::Error::InitialListFailed(api(503));
        for n in 1..200 {
            assert!(delay_after(&e, n) <= Duration::from_secs(3));
        }
        let f = watcher::Error::InitialListFailed(api(403));
        assert_eq!(delay_after(&f, 1), FORBIDDEN_RECHECK);
    }

    #[tokio::test]
    async fn starts_a_fresh_watcher_after_an_error() {
        // Each start of the watcher yields the next of these runs.
        let runs = std::sync::Mutex::new(vec![
            vec![Ok(3)],
            vec![
                Ok(1),
                Ok(2),
                Err(watcher::Error::InitialListFailed(api(503))),
            ],
        ]);
        let started = std::time::Instant::now();
        let s = pace(|| {
            let run: Vec<Result<u8, watcher::Error>> = runs
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .pop()
                .unwrap_or_default();
            futures::stream::iter(run)
        });
        let got: Vec<Option<u8>> = s.map(Result::ok).collect().await;
        assert_eq!(got, [Some(1), Some(2), None, Some(3)]);
        // The first retry waits a quarter to half a second, not a fixed long pause.
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(250), "{waited:?}");
        assert!(waited < Duration::from_secs(2), "{waited:?}");
    }
}
