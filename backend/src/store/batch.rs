//! What both checkout engines share: callers queue their checkouts; an engine takes what is
//! waiting as one batch, has `domain::checkout::decide` decide it, and hands each caller its
//! answers. `gather` also forms PostgreSQL's batches of session lookups.

use super::StoreResult;
use crate::domain::checkout::{Answer, CheckoutJob};
use tokio::sync::{mpsc, oneshot};

/// One caller's checkouts (usually one), decided together and in this order.
pub(crate) struct Waiting {
    pub jobs: Vec<CheckoutJob>,
    pub reply: oneshot::Sender<StoreResult<Vec<Answer>>>,
}

pub(crate) type Queue = mpsc::Receiver<Waiting>;

/// Hands `jobs` to an engine's queue and waits for their answers.
pub(crate) async fn submit(
    queue: &mpsc::Sender<Waiting>,
    jobs: Vec<CheckoutJob>,
    stopped: impl Fn() -> super::StoreError,
) -> StoreResult<Vec<Answer>> {
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

/// Every checkout of the batch, in the callers' order.
pub(crate) fn jobs_of(batch: &[Waiting]) -> Vec<CheckoutJob> {
    batch.iter().flat_map(|w| w.jobs.iter().cloned()).collect()
}

/// Each caller gets its own answers from those of the whole batch.
pub(crate) fn deliver(batch: Vec<Waiting>, mut answers: Vec<Answer>) {
    for w in batch {
        let rest = answers.split_off(w.jobs.len().min(answers.len()));
        let _ = w.reply.send(Ok(std::mem::replace(&mut answers, rest)));
    }
}
