//! Refusals as the tests check them: quickly, and on the alert named.

use std::fmt::Debug;
use std::time::{Duration, Instant};

use tls::{AlertDescription, Error};

/// How long a refusal may take: a peer slow to say no is a bug, or a hang on its way.
pub const REFUSAL_WITHIN: Duration = Duration::from_secs(4);

/// `handshake` must fail within [`REFUSAL_WITHIN`] on the alert `expected`, received from the
/// peer; `log()` (what the peer printed) goes into the failure message, its end only.
pub fn assert_refused_by_peer<T: Debug>(
    handshake: impl FnOnce() -> Result<T, Error>,
    expected: AlertDescription,
    log: impl Fn() -> String,
) {
    let started = Instant::now();
    let e = handshake().unwrap_err();
    let took = started.elapsed();
    assert!(
        took < REFUSAL_WITHIN,
        "took {took:?}: {e:?}\n{}",
        crate::tail(&log(), 4000)
    );
    assert!(
        matches!(e, Error::RemoteAlert { description } if description == expected),
        "{e:?}, not {expected:?} from the peer\n{}",
        crate::tail(&log(), 4000)
    );
}

/// Our side's `result` (a server thread's, joined) must be a refusal made within
/// [`REFUSAL_WITHIN`] of `started`, sending one of `expected`: the alert sent and the reason
/// given.
pub fn assert_refused_by_us<T: Debug>(
    result: Result<T, Error>,
    started: Instant,
    expected: &[AlertDescription],
) -> (AlertDescription, String) {
    let took = started.elapsed();
    let e = result.unwrap_err();
    assert!(took < REFUSAL_WITHIN, "took {took:?}: {e:?}");
    match e {
        Error::LocalAlert {
            description,
            message,
        } if expected.contains(&description) => (description, message),
        other => panic!("{other:?}, not one of {expected:?} from us"),
    }
}
