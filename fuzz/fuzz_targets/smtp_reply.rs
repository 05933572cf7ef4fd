#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tls_smtp::fuzzing::smtp_reply(data));
