//! Local stand-ins for the far end (our sandbox): servers on 127.0.0.1 that speak the real
//! protocols, used by `shipdeck demo` and by the tests. Product code never knows it talks to them.

pub mod ci;
pub mod feishu;
pub mod fleet;
pub mod github;
pub mod gitremote;
pub mod kube;
pub mod prometheus;

/// An axum server on a bound listener that stops on request, or when its handle is dropped.
pub(crate) struct Serving {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Serving {
    pub(crate) fn start(
        listener: tokio::net::TcpListener,
        app: axum::Router,
        name: &'static str,
    ) -> Serving {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "sandbox {name} stopped");
            }
        });
        Serving {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops the server and waits for it.
    pub(crate) async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
