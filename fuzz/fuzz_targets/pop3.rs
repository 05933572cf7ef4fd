#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tls_mail::fuzzing::pop3(data));
