//! Reconnect delays: exponential backoff with optional jitter, reset after a stable session.

/// How long to wait before reconnecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// First delay, default 1 s.
    pub initial_ms: u64,
    /// Largest delay, default 60 s. Each failure doubles the delay up to this.
    pub max_ms: u64,
    /// A session authenticated at least this long (default 60 s) resets the delay to
    /// `initial_ms`; shorter ones (a wrong secret, a `conflict` right after the handshake) keep
    /// growing it, so a misconfiguration never turns into a tight reconnect loop.
    pub stable_after_ms: u64,
    /// Each delay is shortened by a random part of up to this percentage (0 to 100, default 0),
    /// so that many gateways restarted together do not reconnect in step.
    pub jitter_percent: u8,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            initial_ms: 1_000,
            max_ms: 60_000,
            stable_after_ms: 60_000,
            jitter_percent: 0,
        }
    }
}

/// Backoff state across connection attempts.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: BackoffPolicy,
    next_ms: u64,
    rng: u64,
}

impl Backoff {
    /// Starts at `policy.initial_ms`; `seed` drives the jitter (any value, e.g. the pid).
    pub fn new(policy: BackoffPolicy, seed: u64) -> Self {
        Self {
            policy,
            next_ms: policy.initial_ms,
            // xorshift needs a non-zero state.
            rng: seed | 1,
        }
    }

    /// The delay before the next attempt after a failed or closed connection, given how long
    /// that connection had been authenticated (`None`: it never was).
    pub fn next_delay(&mut self, authenticated_for_ms: Option<u64>) -> u64 {
        if authenticated_for_ms.is_some_and(|d| d >= self.policy.stable_after_ms) {
            self.next_ms = self.policy.initial_ms;
        }
        let base = self.next_ms.min(self.policy.max_ms);
        self.next_ms = base.saturating_mul(2).min(self.policy.max_ms).max(1);
        let jitter = u64::from(self.policy.jitter_percent.min(100));
        if jitter == 0 || base == 0 {
            return base;
        }
        let span = base / 100 * jitter + base % 100 * jitter / 100;
        base - self.random() % (span + 1)
    }

    fn random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_the_cap_and_resets_only_after_a_stable_session() {
        let mut b = Backoff::new(BackoffPolicy::default(), 0);
        let delays: Vec<u64> = (0..8).map(|_| b.next_delay(None)).collect();
        assert_eq!(delays, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
        // Authenticated, then kicked after 5 s: still backing off.
        assert_eq!(b.next_delay(Some(5_000)), 60000);
        assert_eq!(b.next_delay(Some(60_000)), 1000);
        assert_eq!(b.next_delay(None), 2000);
    }

    #[test]
    fn jitter_only_shortens_within_the_percentage() {
        let policy = BackoffPolicy {
            jitter_percent: 20,
            ..BackoffPolicy::default()
        };
        let mut b = Backoff::new(policy, 42);
        let mut plain = Backoff::new(BackoffPolicy::default(), 0);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..50 {
            let base = plain.next_delay(None);
            let d = b.next_delay(None);
            assert!(d <= base && d >= base - base / 5, "{d} for {base}");
            seen.insert(d);
        }
        assert!(seen.len() > 10);
    }
}
