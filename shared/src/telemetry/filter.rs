//! A per-layer filter that is asked about every span and event, never cached as "always".
//!
//! With more than one per-layer filter (logs and trace export here), tracing-subscriber keeps each
//! filter's verdict in a thread-local map between `enabled` and the span or event it is for. An
//! `enabled!` check that is not followed by a span or event leaves that map stale — sqlx does
//! exactly this before every query (`tracing::enabled!(target: "sqlx::query", …)`) — and a
//! callsite whose interest is cached as `always` skips `enabled`, so it reads the stale map: its
//! span is then created disabled for a layer that wanted it (log lines lose their op_id, spans are
//! not exported). Answering `sometimes` instead of `always` makes every callsite go through
//! `enabled`, which writes a fresh verdict for each filter first. `never` stays `never`.

use tracing::subscriber::Interest;
use tracing::{Event, Metadata, span};
use tracing_subscriber::layer::{Context, Filter};

/// Wraps a filter so that its callsites are re-evaluated each time (see the module docs).
#[derive(Debug, Clone)]
pub struct AskEachTime<F>(pub F);

impl<S, F: Filter<S>> Filter<S> for AskEachTime<F> {
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        self.0.enabled(meta, cx)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.0.callsite_enabled(meta).is_never() { Interest::never() } else { Interest::sometimes() }
    }

    fn event_enabled(&self, event: &Event<'_>, cx: &Context<'_, S>) -> bool {
        self.0.event_enabled(event, cx)
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        self.0.max_level_hint()
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        self.0.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        self.0.on_record(id, values, ctx);
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.0.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.0.on_exit(id, ctx);
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        self.0.on_close(id, ctx);
    }
}
