//! The PostgreSQL checkout engine: the checkouts waiting in this process go to the database
//! together, as one call of `fxs_checkout_batch` (migration 0004): one transaction, one commit.
//! Nobody hears "yes" before that commit. One batch at a time per process, on a connection of its
//! own (so the function's plans stay prepared on it); while a batch runs, the next one gathers.
//! Several server processes do the same against one database, and the function's lock order
//! keeps their batches from deadlocking.
//!
//! Why: on two cores a checkout that was its own transaction cost far more in per-transaction
//! and per-round-trip work than in its own statements, and a hot row stayed locked until each
//! single commit reached the disk (BENCHMARKS.md).

use super::{CheckoutInput, CheckoutOutcome, StoreError, StoreResult};
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::Connection;
use std::fmt::Write as _;
use std::sync::LazyLock;
use tokio::sync::{mpsc, oneshot};

/// At most this many checkouts share one commit.
const MAX_BATCH: usize = 256;
/// A batch that deadlocks or fails to serialize is tried again, one checkout at a time, this often.
const RETRIES: usize = 3;

/// The refusal answers as templates (domain::checkout): ~2 KB, sent and parsed once per batch,
/// not per checkout. Kept in the call rather than in a table so that, during a rolling upgrade,
/// each process answers in its own version's words.
static REFUSALS: LazyLock<String> = LazyLock::new(|| crate::domain::checkout::refusal_templates().to_string());

struct Job {
    /// The checkout as a JSON object, without its place in the batch.
    input: String,
    reply: oneshot::Sender<StoreResult<CheckoutOutcome>>,
}

pub struct CheckoutEngine {
    jobs: mpsc::Sender<Job>,
}

fn stopped() -> StoreError {
    StoreError::Conflict("the checkout engine has stopped".into())
}

impl CheckoutEngine {
    /// Starts the engine's task; it ends when the engine is dropped.
    pub fn start(options: PgConnectOptions) -> Self {
        let (jobs, queue) = mpsc::channel(8192);
        tokio::spawn(run(options, queue));
        Self { jobs }
    }

    pub async fn checkout(&self, input: &CheckoutInput) -> StoreResult<CheckoutOutcome> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job { input: job_json(input).to_string(), reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// One checkout as `fxs_checkout_batch` reads it (`i` is set when the batch is formed).
fn job_json(i: &CheckoutInput) -> Value {
    let address = i.address.as_ref();
    json!({
        "u": i.user_id,
        "k": i.key,
        "h": i.request_hash,
        "s": i.slot_id,
        "pr": i.priority,
        "pay": i.payment.as_str(),
        "st": i.payment.initial_status().as_str(),
        "b": address.map(|a| a.building.trim()),
        "un": address.map(|a| a.unit.trim()),
        "r": address.map(|a| a.room.trim()),
        "n": i.note.as_deref().map(str::trim).filter(|n| !n.is_empty()),
        "c": i.handoff_code,
        "now": i.now,
        "exp": i.expires_at,
    })
}

async fn run(options: PgConnectOptions, mut queue: mpsc::Receiver<Job>) {
    let mut conn = None;
    while let Some(first) = queue.recv().await {
        let batch = super::with_waiting(first, &mut queue, MAX_BATCH);
        answer_batch(&mut conn, &options, batch).await;
    }
}

async fn answer_batch(conn: &mut Option<PgConnection>, options: &PgConnectOptions, mut batch: Vec<Job>) {
    let inputs: Vec<&str> = batch.iter().map(|j| j.input.as_str()).collect();
    match call(conn, options, &inputs).await {
        Ok(outcomes) => {
            for (job, outcome) in batch.into_iter().zip(outcomes) {
                let _ = job.reply.send(Ok(outcome));
            }
        }
        Err(e) if batch.len() == 1 => {
            let job = batch.remove(0);
            let result = alone(conn, options, &job, Err(e)).await;
            let _ = job.reply.send(result);
        }
        Err(e) => {
            // Nothing of a failed batch was kept (one transaction): each checkout is tried again
            // on its own, so one bad checkout or a deadlock between processes fails nobody else.
            tracing::warn!(error = %e, size = batch.len(), "checkout batch failed; retrying one by one");
            for job in batch {
                let first = call(conn, options, &[&job.input]).await;
                let result = alone(conn, options, &job, first).await;
                let _ = job.reply.send(result);
            }
        }
    }
}

/// One checkout's answer, given how its last call went: a deadlock or a serialization failure is
/// tried again, up to `RETRIES` times.
async fn alone(
    conn: &mut Option<PgConnection>,
    options: &PgConnectOptions,
    job: &Job,
    mut result: StoreResult<Vec<CheckoutOutcome>>,
) -> StoreResult<CheckoutOutcome> {
    for _ in 0..RETRIES {
        match &result {
            Err(e) if retryable(e) => result = call(conn, options, &[&job.input]).await,
            _ => break,
        }
    }
    result.map(|mut o| o.remove(0))
}

fn retryable(e: &StoreError) -> bool {
    match e {
        StoreError::Database(sqlx::Error::Database(db)) => matches!(db.code().as_deref(), Some("40P01" | "40001")),
        _ => false,
    }
}

/// One call, one transaction; the outcomes in the order of `inputs`. The connection is made when
/// needed and dropped after any failure, so a broken one is replaced.
async fn call(
    conn: &mut Option<PgConnection>,
    options: &PgConnectOptions,
    inputs: &[&str],
) -> StoreResult<Vec<CheckoutOutcome>> {
    // The JSON array of the batch, each checkout with its place in it (`i`) put in front.
    let mut jobs = String::with_capacity(inputs.iter().map(|i| i.len() + 12).sum::<usize>() + 2);
    jobs.push('[');
    for (n, input) in inputs.iter().enumerate() {
        if n > 0 {
            jobs.push(',');
        }
        let _ = write!(jobs, "{{\"i\":{n},");
        jobs.push_str(input.strip_prefix('{').unwrap_or(input));
    }
    jobs.push(']');
    let connection = match conn {
        Some(c) => c,
        None => conn.insert(PgConnection::connect_with(options).await?),
    };
    let rows: Vec<(i32, String, i32, Option<String>)> =
        match sqlx::query_as("SELECT idx, outcome, status, body FROM fxs_checkout_batch($1::jsonb, $2::jsonb)")
            .bind(jobs)
            .bind(REFUSALS.as_str())
            .fetch_all(&mut *connection)
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                *conn = None;
                return Err(e.into());
            }
        };
    let mut outcomes: Vec<Option<CheckoutOutcome>> = vec![None; inputs.len()];
    for (idx, outcome, status, body) in rows {
        let slot = usize::try_from(idx).ok().and_then(|n| outcomes.get_mut(n));
        let answer = match (outcome.as_str(), body) {
            ("answer", Some(body)) => CheckoutOutcome::Answer { status: status as u16, body },
            ("mismatch", _) => CheckoutOutcome::KeyMismatch,
            ("in_use", _) => CheckoutOutcome::KeyInUse,
            (other, _) => return Err(StoreError::Conflict(format!("fxs_checkout_batch answered {other}"))),
        };
        match slot {
            Some(slot) => *slot = Some(answer),
            None => return Err(StoreError::Conflict(format!("fxs_checkout_batch answered for job {idx}"))),
        }
    }
    outcomes
        .into_iter()
        .map(|o| o.ok_or_else(|| StoreError::Conflict("fxs_checkout_batch left a checkout unanswered".into())))
        .collect()
}
