//! Arbitrary bytes → `PaymentRequired::from_header`; whatever decodes round-trips,
//! and a payment created for it with a fixed key verifies against it.
#![no_main]

use _core::x402::types::PaymentRequired;
use fastx402_fuzz::{check_error, header_of, pay_and_verify, round_trip_required, MAX_BYTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let header = header_of(data);
    match PaymentRequired::from_header(&header, MAX_BYTES) {
        Ok(required) => {
            round_trip_required(&required);
            pay_and_verify(&required);
        }
        Err(e) => check_error(&e, &header, MAX_BYTES),
    }
});
