//! One test body for an adapter's blocking client and for its tokio twin.

/// Which of an adapter's two clients a test drives: the blocking one, or its tokio twin made
/// from the same settings. Each test crate gives it the calls of its protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    /// The blocking client.
    Blocking,
    /// The tokio client, run to completion call by call.
    Tokio,
}

impl Client {
    /// Both, blocking first.
    pub const BOTH: [Client; 2] = [Client::Blocking, Client::Tokio];
}

/// Runs each named `fn(Client)` once per client, as the tests `NAME::blocking` and
/// `NAME::tokio`.
#[macro_export]
macro_rules! on_both_clients {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn blocking() {
                super::$name($crate::Client::Blocking)
            }

            #[test]
            fn tokio() {
                super::$name($crate::Client::Tokio)
            }
        }
    )*};
}
