//! A background writer that batches: callers queue items and return at once; one task commits
//! whatever is queued (up to a batch size) in one transaction; `flush` waits until everything
//! queued before it is written. The audit trail and request history each run one; `BatchSink` is
//! the seam another database implements. A writer may be given a byte budget: then a caller waits
//! while the queue already holds that much, so a writer slower than its callers slows them down
//! instead of holding an ever longer queue in memory.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

/// Where a batch goes: one call, one transaction. Failures are the sink's to retry or report.
#[async_trait::async_trait]
pub trait BatchSink: Send + Sync + 'static {
    type Item: Send + 'static;
    async fn write(&self, batch: &[Self::Item]);
}

enum Message<T> {
    /// An item and its share of the byte budget, given back once the item is written.
    Item(Box<T>, Option<OwnedSemaphorePermit>),
    Flush(oneshot::Sender<()>),
}

/// The queue's sending end. The writer task ends when every handle is dropped.
pub struct BatchWriter<T> {
    tx: mpsc::UnboundedSender<Message<T>>,
    /// Bytes of queued items allowed at once (None: unbounded, for small items such as audit events).
    budget: Option<(Arc<Semaphore>, u32)>,
}

impl<T> Clone for BatchWriter<T> {
    fn clone(&self) -> Self {
        Self { tx: self.tx.clone(), budget: self.budget.clone() }
    }
}

/// The writer task has stopped: nothing queued now will be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

impl<T: Send + 'static> BatchWriter<T> {
    pub fn spawn<S: BatchSink<Item = T>>(sink: S, batch_size: usize) -> (Self, JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx, budget: None }, tokio::spawn(run(sink, rx, batch_size.max(1))))
    }

    /// A writer whose queue holds at most `max_queued_bytes` of items (as weighed by the caller of
    /// [`Self::push_weighed`]); an item heavier than the whole budget waits for an empty queue.
    pub fn spawn_bounded<S: BatchSink<Item = T>>(
        sink: S,
        batch_size: usize,
        max_queued_bytes: u32,
    ) -> (Self, JoinHandle<()>) {
        let (mut writer, task) = Self::spawn(sink, batch_size);
        let budget = max_queued_bytes.max(1);
        writer.budget = Some((Arc::new(Semaphore::new(budget as usize)), budget));
        (writer, task)
    }

    /// Queues one item; a channel push, never a database write.
    pub fn push(&self, item: T) -> Result<(), Stopped> {
        self.tx.send(Message::Item(Box::new(item), None)).map_err(|_| Stopped)
    }

    /// Queues one item of about `bytes` bytes, first waiting while the queue holds the writer's
    /// whole budget (no wait on an unbounded writer).
    pub async fn push_weighed(&self, item: T, bytes: usize) -> Result<(), Stopped> {
        let permit = match &self.budget {
            Some((budget, total)) => {
                let share = u32::try_from(bytes).unwrap_or(u32::MAX).clamp(1, *total);
                Some(budget.clone().acquire_many_owned(share).await.map_err(|_| Stopped)?)
            }
            None => None,
        };
        self.tx.send(Message::Item(Box::new(item), permit)).map_err(|_| Stopped)
    }

    /// Bytes of the budget in use by queued items (0 for an unbounded writer).
    pub fn queued_bytes(&self) -> usize {
        self.budget.as_ref().map_or(0, |(budget, total)| (*total as usize).saturating_sub(budget.available_permits()))
    }

    /// Waits until every item queued before this call has been written (or the writer stopped).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Message::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

async fn run<S: BatchSink>(sink: S, mut rx: mpsc::UnboundedReceiver<Message<S::Item>>, batch_size: usize) {
    let mut batch = Vec::with_capacity(batch_size);
    let mut permits = Vec::with_capacity(batch_size);
    let mut waiting = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Item(item, permit) => {
                    batch.push(*item);
                    permits.extend(permit);
                }
                Message::Flush(done) => waiting.push(done),
            }
            if batch.len() < batch_size {
                next = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            sink.write(&batch).await;
            batch.clear();
            // The budget comes back only once the items are written (or given up by the sink).
            permits.clear();
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
    async fn the_writer_stops_when_every_handle_is_dropped_and_then_refuses_items() {
        let (writer, task) = BatchWriter::spawn(Recorder::default(), 4);
        let second = writer.clone();
        drop(writer);
        second.push(1).unwrap();
        second.flush().await;
        drop(second);
        tokio::time::timeout(std::time::Duration::from_secs(5), task).await.unwrap().unwrap();
    }

    /// Writes nothing until the test opens the gate, one batch per permit.
    #[derive(Clone)]
    struct Gated {
        gate: Arc<Semaphore>,
        written: Recorder,
    }

    #[async_trait::async_trait]
    impl BatchSink for Gated {
        type Item = u32;
        async fn write(&self, batch: &[u32]) {
            self.gate.acquire().await.unwrap().forget();
            self.written.0.lock().unwrap().push(batch.to_vec());
        }
    }

    #[tokio::test]
    async fn a_bounded_writer_makes_callers_wait_while_its_queue_holds_the_whole_budget() {
        let sink = Gated { gate: Arc::new(Semaphore::new(0)), written: Recorder::default() };
        let (writer, _task) = BatchWriter::spawn_bounded(sink.clone(), 1, 10);
        writer.push_weighed(1, 6).await.unwrap();
        assert_eq!(writer.queued_bytes(), 6, "held until written");
        let second = tokio::spawn({
            let writer = writer.clone();
            async move { writer.push_weighed(2, 6).await }
        });
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        assert!(!second.is_finished(), "6 + 6 bytes exceed the budget of 10: the caller waits");
        sink.gate.add_permits(1);
        second.await.unwrap().unwrap();
        sink.gate.add_permits(1);
        writer.flush().await;
        assert_eq!(sink.written.0.lock().unwrap().concat(), vec![1, 2]);
        assert_eq!(writer.queued_bytes(), 0, "the budget comes back once written");
    }

    #[tokio::test]
    async fn an_item_heavier_than_the_whole_budget_waits_for_an_empty_queue_and_is_written() {
        let sink = Gated { gate: Arc::new(Semaphore::new(2)), written: Recorder::default() };
        let (writer, _task) = BatchWriter::spawn_bounded(sink.clone(), 4, 10);
        writer.push_weighed(1, 3).await.unwrap();
        writer.push_weighed(2, 1_000).await.unwrap();
        writer.flush().await;
        assert_eq!(sink.written.0.lock().unwrap().concat(), vec![1, 2]);
    }
}
