//! `eventlog::parse` on arbitrary bytes: never panics; a parsed log is internally
//! consistent (it replays to its own current value and to nothing else), its CEL-JSON
//! text and JSON value read back to an equal log, and the text is a fixed point.
#![no_main]

use cerd_attestation::eventlog::{self, EventLog};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(log) = eventlog::parse(data) else {
        return;
    };
    let current = log.current();
    assert_eq!(log.verify_replay(&current), Ok(()));
    let mut other = current;
    other[0] ^= 1;
    assert!(log.verify_replay(&other).is_err());
    assert_eq!(log.replay(log.pcr(), *log.header().initial()), current);

    let text = log.to_json();
    let back = eventlog::parse(text.as_bytes()).expect("reparse to_json");
    assert_eq!(back, log);
    assert_eq!(back.to_json(), text);
    let from_value = EventLog::from_value(&log.to_value()).expect("reparse to_value");
    assert_eq!(from_value, log);

    for e in log.events() {
        assert_eq!(e.pcr(), log.pcr());
        if let Some(m) = e.measurement() {
            let found = log.find(m.digest()).expect("a measured digest is found");
            assert!(found.recnum() >= e.recnum());
        }
    }
    assert!(log.bound_from() >= 1 && log.bound_from() <= log.next_recnum());
});
