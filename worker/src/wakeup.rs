//! Job wake-ups: apalis' LISTEN stream plus one delayed echo after each notification.
//!
//! apalis only uses a notification as a waker. One that arrives while a fetch is already in flight
//! (a fetch whose snapshot predates the new job's commit) wakes nothing new: the fetch comes back
//! empty and the worker parks until its next heartbeat, seconds later. Echoing the last
//! notification once, shortly after, forces a fetch that sees the job. Idle workers cost nothing.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Stream, StreamExt};
use std::future::Future;
use tokio::time::Sleep;

/// Delay of the echo: longer than a fetch round trip, short against any human-noticeable wait.
pub const ECHO_DELAY: Duration = Duration::from_millis(25);

/// A stream that yields for every item of `inner`, and once more `delay` after the latest one.
pub struct WithEcho<S> {
    inner: S,
    echo: Option<Pin<Box<Sleep>>>,
    delay: Duration,
}

impl<S> WithEcho<S> {
    pub fn new(inner: S, delay: Duration) -> Self {
        Self { inner, echo: None, delay }
    }
}

impl<S: Stream + Unpin> Stream for WithEcho<S> {
    type Item = ();

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        if let Some(sleep) = self.echo.as_mut()
            && sleep.as_mut().poll(cx).is_ready()
        {
            self.echo = None;
            return Poll::Ready(Some(()));
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(_)) => {
                let mut sleep = Box::pin(tokio::time::sleep(self.delay));
                // Register the timer now: the caller may not poll this stream again until woken,
                // and the echo must be able to wake it.
                let _ = sleep.as_mut().poll(cx);
                self.echo = Some(sleep);
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
    async fn every_item_is_echoed_once_after_the_delay() {
        let (tx, rx) = futures::channel::mpsc::unbounded::<u8>();
        let mut s = WithEcho::new(rx, ECHO_DELAY);
        tx.unbounded_send(1).unwrap();
        assert_eq!(s.next().await, Some(()));
        let start = tokio::time::Instant::now();
        assert_eq!(s.next().await, Some(()), "the echo");
        assert!(start.elapsed() >= ECHO_DELAY);
        // Nothing more until a new item arrives.
        let quiet = tokio::time::timeout(Duration::from_secs(10), s.next()).await;
        assert!(quiet.is_err());
        drop(tx);
        assert_eq!(s.next().await, None);
    }
}
