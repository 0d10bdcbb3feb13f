//! Job wake-ups: apalis' LISTEN stream, resubscribed when it ends, plus delayed echoes after each
//! notification.
//!
//! apalis only uses a notification as a waker. One that arrives while a fetch is already in flight
//! (a fetch whose snapshot predates the new job's commit) wakes nothing new: the fetch comes back
//! empty and the worker parks until its next heartbeat, seconds later. Echoing the latest
//! notification shortly after (and once more later, in case the first echo met a busy worker)
//! forces a fetch that sees the job. Idle workers cost nothing.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use apalis_postgres::Pubsub;
use futures::{Stream, StreamExt};
use tokio::time::Sleep;

/// Delays of the echoes after a notification: the first just past a fetch round trip, the second
/// a safety net still far below any human-noticeable wait.
pub const ECHO_DELAYS: &[Duration] = &[Duration::from_millis(3), Duration::from_millis(40)];

/// How long after losing its LISTEN connection a queue subscribes again.
const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(1);

/// apalis' wake-ups for one queue, subscribed again whenever they end. apalis' `Pubsub` ends for
/// good when its LISTEN connection cannot be re-opened (a database down for longer than the pool's
/// connect timeout); the worker would then look for jobs only at its heartbeat. Each new
/// subscription yields once, so jobs announced while nobody listened are fetched at once.
pub struct Resubscribing {
    pool: sqlx::PgPool,
    queue: String,
    inner: Option<Pubsub>,
    retry: Option<Pin<Box<Sleep>>>,
}

impl Resubscribing {
    pub fn new(pool: sqlx::PgPool, queue: &str) -> Self {
        let inner = Some(Pubsub::new(pool.clone(), queue.to_owned()));
        Self { pool, queue: queue.to_owned(), inner, retry: None }
    }
}

impl Stream for Resubscribing {
    type Item = ();

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let this = &mut *self;
        loop {
            if let Some(retry) = this.retry.as_mut() {
                std::task::ready!(retry.as_mut().poll(cx));
                this.retry = None;
                this.inner = Some(Pubsub::new(this.pool.clone(), this.queue.clone()));
                return Poll::Ready(Some(()));
            }
            let Some(inner) = this.inner.as_mut() else {
                this.retry = Some(Box::pin(tokio::time::sleep(RESUBSCRIBE_AFTER)));
                continue;
            };
            match std::task::ready!(inner.poll_next_unpin(cx)) {
                Some(Ok(_)) => return Poll::Ready(Some(())),
                // Only a failed (re)connection surfaces here; the stream ends right after it.
                Some(Err(e)) => tracing::debug!(queue = %this.queue, error = %e, "job wake-ups: cannot listen"),
                None => {
                    tracing::warn!(queue = %this.queue, "job wake-ups lost with the LISTEN connection; subscribing again");
                    this.inner = None;
                }
            }
        }
    }
}

/// A stream that yields for every item of `inner`, then once after each of `delays` (measured
/// from the latest item).
pub struct WithEcho<S> {
    inner: S,
    delays: &'static [Duration],
    /// The pending echo and the index of the delay after it.
    echo: Option<(Pin<Box<Sleep>>, usize)>,
}

impl<S> WithEcho<S> {
    pub fn new(inner: S, delays: &'static [Duration]) -> Self {
        Self { inner, delays, echo: None }
    }

    /// Arm the echo `index`, registering its timer with `cx` at once: the caller may not poll this
    /// stream again until something wakes it.
    fn arm(&mut self, index: usize, elapsed: Duration, cx: &mut Context<'_>) {
        self.echo = self.delays.get(index).map(|d| {
            let mut sleep = Box::pin(tokio::time::sleep(d.saturating_sub(elapsed)));
            let _ = sleep.as_mut().poll(cx);
            (sleep, index + 1)
        });
    }
}

impl<S: Stream + Unpin> Stream for WithEcho<S> {
    type Item = ();

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let fired = match self.echo.as_mut() {
            Some((sleep, next)) => sleep.as_mut().poll(cx).is_ready().then_some(*next),
            None => None,
        };
        if let Some(next) = fired {
            let fired_at = self.delays[next - 1];
            self.arm(next, fired_at, cx);
            return Poll::Ready(Some(()));
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(_)) => {
                self.arm(0, Duration::ZERO, cx);
                Poll::Ready(Some(()))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn every_item_is_echoed_after_each_delay_then_silence() {
        let (tx, rx) = futures::channel::mpsc::unbounded::<u8>();
        let mut s = WithEcho::new(rx, ECHO_DELAYS);
        tx.unbounded_send(1).unwrap();
        let start = tokio::time::Instant::now();
        assert_eq!(s.next().await, Some(()));
        for delay in ECHO_DELAYS {
            assert_eq!(s.next().await, Some(()), "echo at {delay:?}");
            assert_eq!(start.elapsed(), *delay);
        }
        // Nothing more until a new item arrives.
        let quiet = tokio::time::timeout(Duration::from_secs(10), s.next()).await;
        assert!(quiet.is_err());
        drop(tx);
        assert_eq!(s.next().await, None);
    }
}
