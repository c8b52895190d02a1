//! A background writer that batches: callers queue items and return at once; one task commits
//! whatever is queued (up to a batch size) in one transaction; `flush` waits until everything
//! queued before it is written. The audit trail and request history each run one; `BatchSink` is
//! the seam another database implements.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Where a batch goes: one call, one transaction. Failures are the sink's to retry or report.
#[async_trait::async_trait]
pub trait BatchSink: Send + Sync + 'static {
    type Item: Send + 'static;
    async fn write(&self, batch: &[Self::Item]);
}

enum Message<T> {
    Item(Box<T>),
    Flush(oneshot::Sender<()>),
}

/// The queue's sending end. The writer task ends when every handle is dropped.
pub struct BatchWriter<T> {
    tx: mpsc::UnboundedSender<Message<T>>,
    /// Items queued and not yet written, so a caller can wait instead of queueing without bound.
    pending: Arc<AtomicUsize>,
}

impl<T> Clone for BatchWriter<T> {
    fn clone(&self) -> Self {
        Self { tx: self.tx.clone(), pending: self.pending.clone() }
    }
}

/// The writer task has stopped: nothing queued now will be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

impl<T: Send + 'static> BatchWriter<T> {
    pub fn spawn<S: BatchSink<Item = T>>(sink: S, batch_size: usize) -> (Self, JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let pending = Arc::new(AtomicUsize::new(0));
        (Self { tx, pending: pending.clone() }, tokio::spawn(run(sink, rx, batch_size.max(1), pending)))
    }

    /// Queues one item; a channel push, never a database write.
    pub fn push(&self, item: T) -> Result<(), Stopped> {
        self.pending.fetch_add(1, Ordering::Relaxed);
        self.tx.send(Message::Item(Box::new(item))).map_err(|_| {
            self.pending.fetch_sub(1, Ordering::Relaxed);
            Stopped
        })
    }

    /// Items queued and not yet written.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// Waits until every item queued before this call has been written (or the writer stopped).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Message::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

async fn run<S: BatchSink>(
    sink: S,
    mut rx: mpsc::UnboundedReceiver<Message<S::Item>>,
    batch_size: usize,
    pending: Arc<AtomicUsize>,
) {
    let mut batch = Vec::with_capacity(batch_size);
    let mut waiting = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Item(item) => batch.push(*item),
                Message::Flush(done) => waiting.push(done),
            }
            if batch.len() < batch_size {
                next = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            sink.write(&batch).await;
            pending.fetch_sub(batch.len(), Ordering::Relaxed);
            batch.clear();
        }
        // Flushes queued behind items still waiting in the channel are answered with those items'
        // batch, never before.
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<Vec<u32>>>>);

    #[async_trait::async_trait]
    impl BatchSink for Recorder {
        type Item = u32;
        async fn write(&self, batch: &[u32]) {
            self.0.lock().unwrap().push(batch.to_vec());
        }
    }

    #[tokio::test]
    async fn a_flush_returns_after_everything_queued_before_it_is_written_in_batches_of_at_most_the_size() {
        let recorder = Recorder::default();
        let (writer, _task) = BatchWriter::spawn(recorder.clone(), 4);
        for item in 0..10 {
            writer.push(item).unwrap();
        }
        writer.flush().await;
        let batches = recorder.0.lock().unwrap().clone();
        assert!(batches.iter().all(|b| !b.is_empty() && b.len() <= 4), "{batches:?}");
        assert_eq!(batches.concat(), (0..10).collect::<Vec<_>>(), "in order, each once");
    }

    #[tokio::test]
    async fn pending_counts_what_is_queued_and_not_yet_written() {
        let (writer, _task) = BatchWriter::spawn(Recorder::default(), 4);
        for item in 0..10 {
            writer.push(item).unwrap();
        }
        writer.flush().await;
        assert_eq!(writer.pending(), 0);
    }

    #[tokio::test]
    async fn the_writer_stops_when_every_handle_is_dropped_and_then_refuses_items() {
        let (writer, task) = BatchWriter::spawn(Recorder::default(), 4);
        let second = writer.clone();
        drop(writer);
        second.push(1).unwrap();
        second.flush().await;
        drop(second);
        tokio::time::timeout(std::time::Duration::from_secs(5), task).await.unwrap().unwrap();
    }
}
