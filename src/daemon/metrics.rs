//! Counters and histograms, rendered as Prometheus text (exposition format 0.0.4).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// A histogram with fixed upper bounds.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    /// Sum in millionths of the unit.
    sum_micro: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_micro: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, value: f64) {
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            if value <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        // Saturating float-to-int cast: a histogram sum never panics.
        self.sum_micro
            .fetch_add((value * 1e6) as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let n = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {n}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.sum_micro.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {n}");
    }
}

/// Everything `/metrics` reports.
#[derive(Debug)]
pub struct Metrics {
    pub sealed: AtomicU64,
    pub attested: AtomicU64,
    pub batches: AtomicU64,
    pub tpm_errors: AtomicU64,
    pub bad_requests: AtomicU64,
    /// Records durable but not yet in a quoted batch.
    pub queue_depth: std::sync::Arc<AtomicI64>,
    pub batch_size: Histogram,
    pub quote_seconds: Histogram,
}

impl Metrics {
    pub fn new(queue_depth: std::sync::Arc<AtomicI64>) -> Self {
        Self {
            sealed: AtomicU64::new(0),
            attested: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            tpm_errors: AtomicU64::new(0),
            bad_requests: AtomicU64::new(0),
            queue_depth,
            batch_size: Histogram::new(&[1.0, 8.0, 64.0, 256.0, 1024.0, 2048.0, 4096.0, 16384.0]),
            quote_seconds: Histogram::new(&[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        counter(
            &mut out,
            "cerd_records_sealed_total",
            "Records sealed and acknowledged (durable).",
            self.sealed.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "cerd_records_attested_total",
            "Records in a quoted, stored batch.",
            self.attested.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "cerd_batches_total",
            "Batches quoted and stored.",
            self.batches.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "cerd_tpm_errors_total",
            "Failed hardware-evidence operations (TPM measurements and quotes, SEV-SNP reports).",
            self.tpm_errors.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "cerd_bad_requests_total",
            "Requests answered with a 4xx status.",
            self.bad_requests.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP cerd_queue_depth Records acknowledged but not yet attested.\n# TYPE cerd_queue_depth gauge\ncerd_queue_depth {}",
            self.queue_depth.load(Ordering::Relaxed)
        );
        self.batch_size
            .render(&mut out, "cerd_batch_size", "Records per quoted batch.");
        self.quote_seconds.render(
            &mut out,
            "cerd_quote_duration_seconds",
            "Time the TPM took to quote a batch.",
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::new(Default::default());
        m.batch_size.observe(5.0);
        m.batch_size.observe(4096.0);
        let text = m.render();
        assert!(
            text.contains("cerd_batch_size_bucket{le=\"1\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("cerd_batch_size_bucket{le=\"8\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("cerd_batch_size_bucket{le=\"4096\"} 2"),
            "{text}"
        );
        assert!(text.contains("cerd_batch_size_count 2"), "{text}");
    }
}
