//! Work a request starts and does not wait for (e.g. the `ANALYZE` after a bulk creation).

use std::future::Future;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// Tasks spawned on the server's main runtime, which outlives the HTTP workers, in the span
/// (request id) of the request that started them; a stopping server waits for them.
pub struct Background {
    runtime: tokio::runtime::Handle,
    tasks: TaskTracker,
    /// One [`Background::settled`] at a time: another's `reopen` would leave a waiter on an
    /// open tracker, which no task's end wakes.
    settling: tokio::sync::Mutex<()>,
}

impl Background {
    /// Tasks spawned on `runtime`.
    pub fn new(runtime: tokio::runtime::Handle) -> Self {
        Self {
            runtime,
            tasks: TaskTracker::new(),
            settling: tokio::sync::Mutex::new(()),
        }
    }

    /// Runs `task` without waiting for it.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks
            .spawn_on(task.instrument(tracing::Span::current()), &self.runtime);
    }

    /// Waits until every task spawned so far has ended (a stopping server, the CSV import
    /// before it exits, and tests that observe what a task did); tasks spawned meanwhile are
    /// waited for too.
    pub async fn settled(&self) {
        let _one = self.settling.lock().await;
        self.tasks.close();
        self.tasks.wait().await;
        self.tasks.reopen();
    }
}
