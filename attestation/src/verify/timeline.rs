//! Ordering batches of one host across bundles, from what their quotes say.
//!
//! Every verified TPM quote carries TPMS_CLOCK_INFO (TPM 2.0 Part 2 §10.11.1) and the
//! TPM's firmware version. The clock only moves forward (it is non-volatile and
//! survives resets; TPM2_ClockSet can only advance it), `resetCount` counts reboots and
//! `restartCount` counts resumes since the last reboot. Put the batches of one AK in
//! batch-sequence order and these must agree: a reboot between two batches shows as a
//! higher `resetCount`, and a clock that goes back while the later quote says `safe`
//! contradicts the order the batch chain claims. Two different headers with one
//! sequence number, or consecutive headers that do not link, are forks of the chain.
//!
//! Only quotes whose checks passed are used ([`super::Verdict::attested`]).

use serde::Serialize;

use crate::batch::BatchHeader;
use crate::digest::Sha256Digest;
use crate::tpm::ClockInfo;

/// What a verified quote says about when and where its batch was attested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AttestedBatch {
    /// The AK's TPM name (hex): one AK, one host.
    pub ak_name: String,
    /// The batch header the quote signed.
    #[serde(skip)]
    pub header: BatchHeader,
    /// The batch sequence number.
    pub batch: u64,
    /// TPMS_CLOCK_INFO of the quote.
    pub clock: ClockInfo,
    /// The TPM's firmware version (TPMS_ATTEST.firmwareVersion).
    pub firmware_version: u64,
}

/// One batch in a host's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BatchPoint {
    /// Batch sequence number.
    pub sequence: u64,
    /// SHA-256 of its header (what the quote signed).
    pub header: Sha256Digest,
    /// Clock info of its quote.
    pub clock: ClockInfo,
    /// Firmware version of its quote.
    pub firmware_version: u64,
    /// How many of the verified bundles are in this batch.
    pub records: usize,
}

/// Something the ordering shows between two consecutive known batches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum Event {
    /// The host rebooted (resetCount went up) between two batches.
    Reboot {
        /// Sequence of the earlier batch.
        after: u64,
        /// Sequence of the later batch.
        before: u64,
        /// resetCount of the earlier quote.
        from: u32,
        /// resetCount of the later quote.
        to: u32,
    },
    /// The TPM was resumed (restartCount went up) between two batches.
    Resume {
        /// Sequence of the earlier batch.
        after: u64,
        /// Sequence of the later batch.
        before: u64,
    },
    /// The TPM firmware version changed between two batches.
    FirmwareChanged {
        /// Sequence of the earlier batch.
        after: u64,
        /// Sequence of the later batch.
        before: u64,
        /// Earlier firmware version.
        from: u64,
        /// Later firmware version.
        to: u64,
    },
    /// Batches between these two were not among the verified bundles.
    Gap {
        /// Sequence of the earlier batch.
        after: u64,
        /// Sequence of the later batch.
        before: u64,
    },
    /// Fault: the later batch's quote has a lower resetCount, or the same resetCount
    /// and a lower restartCount, or (while `safe`) a lower clock.
    OrderContradicted {
        /// Sequence of the earlier batch.
        after: u64,
        /// Sequence of the later batch.
        before: u64,
        /// What went backwards.
        what: String,
    },
    /// Fault: two different headers claim one sequence number, or consecutive headers
    /// do not link.
    ChainForked {
        /// The sequence number concerned.
        sequence: u64,
        /// What is wrong.
        what: String,
    },
}

impl Event {
    /// Whether this event contradicts the evidence (as opposed to reporting a fact).
    pub fn is_fault(&self) -> bool {
        matches!(
            self,
            Self::OrderContradicted { .. } | Self::ChainForked { .. }
        )
    }

    /// Stable code of a fault.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Reboot { .. } => "REBOOT",
            Self::Resume { .. } => "RESUME",
            Self::FirmwareChanged { .. } => "FIRMWARE_CHANGED",
            Self::Gap { .. } => "GAP",
            Self::OrderContradicted { .. } => "BATCH_ORDER_CONTRADICTED",
            Self::ChainForked { .. } => "BATCH_CHAIN_FORKED",
        }
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Reboot { after, before, from, to } => write!(
                f,
                "reboot between batch {after} and batch {before} (resetCount {from} -> {to})"
            ),
            Self::Resume { after, before } => write!(
                f,
                "TPM resumed between batch {after} and batch {before} (restartCount went up)"
            ),
            Self::FirmwareChanged { after, before, from, to } => write!(
                f,
                "TPM firmware changed between batch {after} and batch {before} ({from:#x} -> {to:#x})"
            ),
            Self::Gap { after, before } => write!(
                f,
                "batches between {after} and {before} were not given (not checked)"
            ),
            Self::OrderContradicted { after, before, what } => write!(
                f,
                "batch {before} follows batch {after} in the chain, but {what}"
            ),
            Self::ChainForked { sequence, what } => write!(f, "batch {sequence}: {what}"),
        }
    }
}

/// The timeline of one host (one AK).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct HostTimeline {
    /// The AK's TPM name.
    pub ak_name: String,
    /// Its batches, in sequence order.
    pub batches: Vec<BatchPoint>,
    /// What happened between them.
    pub events: Vec<Event>,
}

/// Groups verified quotes by AK and orders each host's batches by sequence, reporting
/// reboots, resumes, firmware changes and contradictions.
pub fn timeline<'a>(quotes: impl IntoIterator<Item = &'a AttestedBatch>) -> Vec<HostTimeline> {
    let mut hosts: Vec<(String, Vec<(BatchHeader, BatchPoint)>)> = Vec::new();
    for q in quotes {
        let idx = match hosts.iter().position(|(ak, _)| *ak == q.ak_name) {
            Some(i) => i,
            None => {
                hosts.push((q.ak_name.clone(), Vec::new()));
                hosts.len().saturating_sub(1)
            }
        };
        let Some((_, batches)) = hosts.get_mut(idx) else {
            continue;
        };
        let hash = q.header.hash();
        match batches.iter_mut().find(|(_, b)| b.header == hash) {
            Some((_, b)) => b.records = b.records.saturating_add(1),
            None => batches.push((
                q.header,
                BatchPoint {
                    sequence: q.batch,
                    header: hash,
                    clock: q.clock,
                    firmware_version: q.firmware_version,
                    records: 1,
                },
            )),
        }
    }
    hosts
        .into_iter()
        .map(|(ak_name, mut batches)| {
            batches.sort_by_key(|(h, b)| (b.sequence, h.hash().0));
            let mut events = Vec::new();
            for pair in batches.windows(2) {
                let [(ha, a), (hb, b)] = pair else { continue };
                events.extend(between(ha, a, hb, b));
            }
            HostTimeline {
                ak_name,
                batches: batches.into_iter().map(|(_, b)| b).collect(),
                events,
            }
        })
        .collect()
}

fn between(ha: &BatchHeader, a: &BatchPoint, hb: &BatchHeader, b: &BatchPoint) -> Vec<Event> {
    let (after, before) = (a.sequence, b.sequence);
    let mut out = Vec::new();
    if after == before {
        out.push(Event::ChainForked {
            sequence: after,
            what: format!(
                "two different headers ({} and {}) claim this sequence number",
                a.header.to_hex(),
                b.header.to_hex()
            ),
        });
        return out;
    }
    if after.checked_add(1) == Some(before) {
        if hb.previous != ha.hash() {
            out.push(Event::ChainForked {
                sequence: before,
                what: format!(
                    "its previous-header hash is {}, but batch {after}'s header hashes to {}",
                    hb.previous.to_hex(),
                    ha.hash().to_hex()
                ),
            });
        }
    } else {
        out.push(Event::Gap { after, before });
    }
    let (ca, cb) = (&a.clock, &b.clock);
    if cb.reset_count < ca.reset_count {
        out.push(Event::OrderContradicted {
            after,
            before,
            what: format!(
                "its quote's resetCount {} is lower than {}",
                cb.reset_count, ca.reset_count
            ),
        });
    } else if cb.reset_count > ca.reset_count {
        out.push(Event::Reboot {
            after,
            before,
            from: ca.reset_count,
            to: cb.reset_count,
        });
    } else if cb.restart_count < ca.restart_count {
        out.push(Event::OrderContradicted {
            after,
            before,
            what: format!(
                "with the same resetCount its quote's restartCount {} is lower than {}",
                cb.restart_count, ca.restart_count
            ),
        });
    } else if cb.restart_count > ca.restart_count {
        out.push(Event::Resume { after, before });
    }
    if cb.clock < ca.clock && cb.safe {
        out.push(Event::OrderContradicted {
            after,
            before,
            what: format!(
                "its quote's clock {} ms is lower than {} ms while the TPM says the clock is safe",
                cb.clock, ca.clock
            ),
        });
    }
    if a.firmware_version != b.firmware_version {
        out.push(Event::FirmwareChanged {
            after,
            before,
            from: a.firmware_version,
            to: b.firmware_version,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(header: BatchHeader, reset: u32, restart: u32, clock: u64, safe: bool) -> AttestedBatch {
        AttestedBatch {
            ak_name: "000bak".into(),
            header,
            batch: header.sequence,
            clock: ClockInfo {
                clock,
                reset_count: reset,
                restart_count: restart,
                safe,
            },
            firmware_version: 7,
        }
    }

    fn chain(n: usize) -> Vec<BatchHeader> {
        let mut out = vec![BatchHeader::genesis(1, Sha256Digest::of(b"0")).unwrap()];
        for i in 1..n {
            let last = *out.last().unwrap();
            out.push(last.next(1, Sha256Digest::of(&[i as u8])).unwrap());
        }
        out
    }

    #[test]
    fn in_order_with_a_reboot_a_resume_and_a_gap() {
        let h = chain(5);
        let quotes = [
            q(h[3], 2, 0, 5000, true),
            q(h[0], 1, 0, 1000, true),
            q(h[1], 1, 0, 1100, true),
            q(h[1], 1, 0, 1100, true),
            q(h[2], 1, 1, 1200, true),
        ];
        let t = timeline(&quotes);
        assert_eq!(t.len(), 1);
        let seqs: Vec<u64> = t[0].batches.iter().map(|b| b.sequence).collect();
        assert_eq!(seqs, [0, 1, 2, 3]);
        assert_eq!(t[0].batches[1].records, 2);
        let codes: Vec<&str> = t[0].events.iter().map(Event::code).collect();
        assert_eq!(codes, ["RESUME", "REBOOT"]);
        assert!(t[0].events.iter().all(|e| !e.is_fault()));
        assert_eq!(
            t[0].events[1].to_string(),
            "reboot between batch 2 and batch 3 (resetCount 1 -> 2)"
        );
        let t = timeline(&[q(h[0], 1, 0, 1, true), q(h[4], 1, 0, 2, true)]);
        assert_eq!(
            t[0].events,
            [Event::Gap {
                after: 0,
                before: 4
            }]
        );
    }

    #[test]
    fn contradictions_are_faults() {
        let h = chain(3);
        for (quotes, code) in [
            (
                [q(h[0], 2, 0, 1000, true), q(h[1], 1, 0, 2000, true)],
                "BATCH_ORDER_CONTRADICTED",
            ),
            (
                [q(h[0], 1, 3, 1000, true), q(h[1], 1, 2, 2000, true)],
                "BATCH_ORDER_CONTRADICTED",
            ),
            (
                [q(h[0], 1, 0, 1000, true), q(h[1], 1, 0, 900, true)],
                "BATCH_ORDER_CONTRADICTED",
            ),
        ] {
            let t = timeline(&quotes);
            let faults: Vec<&str> = t[0]
                .events
                .iter()
                .filter(|e| e.is_fault())
                .map(Event::code)
                .collect();
            assert_eq!(faults, [code], "{t:?}");
        }
        // An unsafe clock may have lost updates: not a contradiction.
        let t = timeline(&[q(h[0], 1, 0, 1000, true), q(h[1], 1, 0, 900, false)]);
        assert!(t[0].events.is_empty(), "{t:?}");
        // A fork: another header with sequence 1, or one that does not link.
        let other = h[0].next(5, Sha256Digest::of(b"x")).unwrap();
        let t = timeline(&[q(h[1], 1, 0, 1, true), q(other, 1, 0, 2, true)]);
        assert_eq!(t[0].events[0].code(), "BATCH_CHAIN_FORKED");
        let mut unlinked = h[2];
        unlinked.previous = Sha256Digest::of(b"elsewhere");
        let t = timeline(&[q(h[1], 1, 0, 1, true), q(unlinked, 1, 0, 2, true)]);
        assert_eq!(t[0].events[0].code(), "BATCH_CHAIN_FORKED");
        // Two AKs, two hosts.
        let mut other_host = q(h[0], 1, 0, 1, true);
        other_host.ak_name = "000bother".into();
        assert_eq!(timeline(&[q(h[0], 1, 0, 1, true), other_host]).len(), 2);
    }
}
