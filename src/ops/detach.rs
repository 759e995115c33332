//! Stopping the wait without stopping the work. An op's body runs as a task of its own; the
//! caller waits for it until the user cancels (esc in the cockpit) or the command's
//! `--timeout` is up. The body keeps running after that: it ends by its own deadlines and
//! journals and announces what really happened, so a write that lands after the wait ended
//! is still on record. Only the caller stops waiting, at once.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Fault, OpError};

/// Time the body gets past the caller's limit to end by its own deadline and say why (its
/// words name the far end; ours can only name the op).
const GRACE: Duration = Duration::from_secs(1);

/// Waits for `body` until `cancel` fires or `limit` passes (plus [`GRACE`]); `what` names
/// the op in the timeout's message.
pub async fn wait_for<T: Send + 'static>(
    cancel: &CancellationToken,
    limit: Option<Duration>,
    what: &str,
    body: impl Future<Output = Result<T, OpError>> + Send + 'static,
) -> Result<T, OpError> {
    let mut handle = tokio::spawn(body);
    let out_of_time = async {
        match limit {
            Some(d) => tokio::time::sleep(d + GRACE).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        joined = &mut handle => joined
            .unwrap_or_else(|e| Err(OpError::failed(format!("background task failed: {e}")))),
        () = cancel.cancelled() => Err(OpError::new(
            Fault::Cancelled,
            format!("{what}: cancelled; if it reaches the far end anyway, the journal says so"),
        )),
        () = out_of_time => Err(OpError::remote(format!(
            "{what} did not finish within the --timeout of {} s",
            limit.unwrap_or_default().as_secs()
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_cancel_ends_the_wait_at_once_and_the_body_runs_on() {
        let cancel = CancellationToken::new();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let body = async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let _ = tx.send(());
            Ok(())
        };
        cancel.cancel();
        let started = std::time::Instant::now();
        let r = wait_for(&cancel, None, "release web stg", body).await;
        assert_eq!(r.unwrap_err().fault, Fault::Cancelled);
        assert!(started.elapsed() < Duration::from_millis(100));
        // The body was not dropped with the wait: it finishes (and would journal).
        tokio::time::timeout(Duration::from_secs(5), rx)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn the_limit_ends_the_wait_with_a_line_naming_the_op() {
        let cancel = CancellationToken::new();
        let body = std::future::pending::<Result<(), OpError>>();
        let started = std::time::Instant::now();
        let r = wait_for(
            &cancel,
            Some(Duration::from_secs(1)),
            "release web stg",
            body,
        )
        .await;
        let e = r.unwrap_err();
        assert_eq!(e.fault, Fault::Remote);
        assert_eq!(
            e.message,
            "release web stg did not finish within the --timeout of 1 s"
        );
        // The limit plus the body's grace second, not more.
        assert!(started.elapsed() < Duration::from_millis(2500));
    }

    #[tokio::test]
    async fn a_body_that_ends_first_gives_its_own_answer() {
        let cancel = CancellationToken::new();
        let r = wait_for(&cancel, Some(Duration::from_secs(3)), "x", async {
            Err::<(), _>(OpError::remote("the GitOps remote did not answer"))
        })
        .await;
        assert_eq!(r.unwrap_err().message, "the GitOps remote did not answer");
    }
}
