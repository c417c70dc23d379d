//! The batch queue: callers queue their jobs (checkouts, group-buy joins) and wait; an engine
//! takes what is waiting as one batch, has the domain decide it in one transaction, and hands
//! each caller its answers. `gather` also forms PostgreSQL's batches of token lookups.

use super::StoreResult;
use tokio::sync::{mpsc, oneshot};

/// One caller's jobs (usually one), decided together and in this order.
pub(crate) struct Waiting<J, A> {
    pub jobs: Vec<J>,
    pub reply: oneshot::Sender<StoreResult<Vec<A>>>,
}

pub(crate) type Queue<J, A> = mpsc::Receiver<Waiting<J, A>>;

/// Hands `jobs` to an engine's queue and waits for their answers.
pub(crate) async fn submit<J, A>(
    queue: &mpsc::Sender<Waiting<J, A>>,
    jobs: Vec<J>,
    stopped: impl Fn() -> super::StoreError,
) -> StoreResult<Vec<A>> {
    let (reply, answer) = oneshot::channel();
    queue.send(Waiting { jobs, reply }).await.map_err(|_| stopped())?;
    answer.await.map_err(|_| stopped())?
}

/// The next batch: `first` and what is already waiting behind it, up to about `max` in all,
/// each waiting item counting `size` of it (a caller's checkouts, a lookup).
pub(crate) fn gather<T>(first: T, queue: &mut mpsc::Receiver<T>, max: usize, size: impl Fn(&T) -> usize) -> Vec<T> {
    let mut total = size(&first);
    let mut batch = vec![first];
    while total < max {
        match queue.try_recv() {
            Ok(item) => {
                total += size(&item);
                batch.push(item);
            }
            Err(_) => break,
        }
    }
    batch
}

/// Every job of the batch, in the callers' order.
pub(crate) fn jobs_of<J: Clone, A>(batch: &[Waiting<J, A>]) -> Vec<J> {
    batch.iter().flat_map(|w| w.jobs.iter().cloned()).collect()
}

/// Each caller gets its own answers from those of the whole batch.
pub(crate) fn deliver<J, A>(batch: Vec<Waiting<J, A>>, mut answers: Vec<A>) {
    for w in batch {
        let rest = answers.split_off(w.jobs.len().min(answers.len()));
        let _ = w.reply.send(Ok(std::mem::replace(&mut answers, rest)));
    }
}

/// Callers waiting in a queue now (for `/metrics`).
pub(crate) fn depth<T>(queue: &mpsc::Sender<T>) -> usize {
    queue.max_capacity() - queue.capacity()
}
