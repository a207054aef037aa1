//! Stanzas waiting for the link (bounded), and the bytes on their way to the socket.

use std::collections::VecDeque;

/// Bounds of the queue of stanzas waiting for an authenticated link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    /// Most stanzas waiting, default 1024.
    pub max_stanzas: usize,
    /// Most bytes waiting, default 4 MiB.
    pub max_bytes: usize,
    /// A stanza that waited longer than this is dropped (presence from minutes ago would be
    /// wrong); default 300 s, 0 keeps stanzas forever.
    pub max_age_ms: u64,
}

impl Default for QueueLimits {
    fn default() -> Self {
        Self {
            max_stanzas: 1024,
            max_bytes: 4 << 20,
            max_age_ms: 300_000,
        }
    }
}

/// One piece of output: a stanza from the queue (with the time it was queued, so that it can
/// go back to the queue if the link drops before it is started) or stream control text.
#[derive(Debug)]
struct OutItem {
    text: String,
    queued_at: Option<u64>,
}

#[derive(Debug)]
pub(crate) struct Outbox {
    limits: QueueLimits,
    queue: VecDeque<(u64, String)>,
    queue_bytes: usize,
    out: VecDeque<OutItem>,
    /// Bytes of the front output item already written.
    written: usize,
    out_bytes: usize,
}

impl Outbox {
    pub(crate) fn new(limits: QueueLimits) -> Self {
        Self {
            limits,
            queue: VecDeque::new(),
            queue_bytes: 0,
            out: VecDeque::new(),
            written: 0,
            out_bytes: 0,
        }
    }

    /// Queues a stanza; `false` (nothing queued) when the queue is full.
    pub(crate) fn enqueue(&mut self, now: u64, stanza: String) -> bool {
        if self.queue.len() >= self.limits.max_stanzas
            || self.queue_bytes + stanza.len() > self.limits.max_bytes
        {
            return false;
        }
        self.queue_bytes += stanza.len();
        self.queue.push_back((now, stanza));
        true
    }

    /// Appends stream control text (header, handshake, keepalive) to the output.
    pub(crate) fn push_control(&mut self, text: String) {
        self.out_bytes += text.len();
        self.out.push_back(OutItem {
            text,
            queued_at: None,
        });
    }

    /// Moves queued stanzas to the output while it holds less than `high_water` bytes.
    pub(crate) fn pump(&mut self, high_water: usize) {
        while self.out_bytes < high_water {
            let Some((queued_at, text)) = self.queue.pop_front() else {
                break;
            };
            self.queue_bytes -= text.len();
            self.out_bytes += text.len();
            self.out.push_back(OutItem {
                text,
                queued_at: Some(queued_at),
            });
        }
    }

    /// The bytes to write next (empty when there is nothing to write).
    pub(crate) fn output(&self) -> &[u8] {
        self.out
            .front()
            .map_or(&[][..], |item| &item.text.as_bytes()[self.written..])
    }

    /// Unwritten output bytes.
    pub(crate) fn output_len(&self) -> usize {
        self.out_bytes
    }

    /// Records that `n` bytes of [`Self::output`] were written; returns how many stanzas that
    /// completed.
    pub(crate) fn consume(&mut self, mut n: usize) -> u64 {
        let mut stanzas = 0;
        while n > 0 {
            let Some(front) = self.out.front() else {
                break;
            };
            let step = n.min(front.text.len() - self.written);
            self.written += step;
            self.out_bytes -= step;
            n -= step;
            if self.written == front.text.len() {
                stanzas += u64::from(front.queued_at.is_some());
                self.out.pop_front();
                self.written = 0;
            }
        }
        stanzas
    }

    /// Empties the output when the link drops: stanzas not started go back to the front of
    /// the queue in order, control text is discarded. Returns whether a half-written stanza
    /// was lost.
    pub(crate) fn reset_output(&mut self) -> bool {
        let mut lost = false;
        if self.written > 0 {
            lost = self.out.pop_front().is_some_and(|i| i.queued_at.is_some());
        }
        for item in self.out.drain(..).rev() {
            if let Some(at) = item.queued_at {
                self.queue_bytes += item.text.len();
                self.queue.push_front((at, item.text));
            }
        }
        self.written = 0;
        self.out_bytes = 0;
        lost
    }

    /// Whether a stanza is partly written (the link must not append other text now).
    pub(crate) fn mid_item(&self) -> bool {
        self.written > 0
    }

    /// Drops queued stanzas older than the limit; returns how many.
    pub(crate) fn expire(&mut self, now: u64) -> u64 {
        let max_age = self.limits.max_age_ms;
        let mut dropped = 0;
        while max_age > 0
            && self
                .queue
                .front()
                .is_some_and(|(at, _)| now.saturating_sub(*at) > max_age)
        {
            if let Some((_, text)) = self.queue.pop_front() {
                self.queue_bytes -= text.len();
                dropped += 1;
            }
        }
        dropped
    }

    /// When the oldest queued stanza expires, if any.
    pub(crate) fn next_expiry(&self) -> Option<u64> {
        let max_age = self.limits.max_age_ms;
        (max_age > 0)
            .then(|| self.queue.front().map(|(at, _)| at + max_age + 1))
            .flatten()
    }

    /// Stanzas waiting in the queue.
    pub(crate) fn queued(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> QueueLimits {
        QueueLimits {
            max_stanzas: 3,
            max_bytes: 10,
            max_age_ms: 100,
        }
    }

    #[test]
    fn bounded_by_count_and_bytes() {
        let mut o = Outbox::new(limits());
        assert!(o.enqueue(0, "aaaa".into()));
        assert!(o.enqueue(0, "bbbb".into()));
        assert!(!o.enqueue(0, "ccc".into()));
        assert!(o.enqueue(0, "cc".into()));
        assert!(!o.enqueue(0, "".into()));
        assert_eq!(o.queued(), 3);
    }

    #[test]
    fn partial_writes_requeue_and_loss() {
        let mut o = Outbox::new(limits());
        o.push_control("<h>".into());
        o.enqueue(0, "s1".into());
        o.enqueue(0, "s2".into());
        o.pump(usize::MAX);
        assert_eq!(o.output(), b"<h>");
        assert_eq!(o.consume(6), 1);
        assert_eq!(o.output(), b"2");
        assert!(o.mid_item());
        assert!(o.reset_output());
        assert_eq!(o.queued(), 0);

        o.push_control("<h>".into());
        o.enqueue(5, "s3".into());
        o.pump(usize::MAX);
        assert_eq!(o.consume(1), 0);
        assert!(!o.reset_output());
        assert_eq!(o.queued(), 1);
        assert_eq!(o.next_expiry(), Some(106));
        assert_eq!(o.expire(105), 0);
        assert_eq!(o.expire(106), 1);
    }
}
