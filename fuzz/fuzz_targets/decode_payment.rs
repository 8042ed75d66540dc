//! Arbitrary bytes → `PaymentPayload::from_header` → (when it decodes)
//! `exact::verify_payment` against fixed v2 and v1 requirements.
//! Never a panic; refusals typed; `Valid` only with matching terms; round trip.
#![no_main]

use _core::x402::types::PaymentPayload;
use fastx402_fuzz::{check_error, header_of, round_trip_payment, verify_and_check, MAX_BYTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let header = header_of(data);
    match PaymentPayload::from_header(&header, MAX_BYTES) {
        Ok(payment) => {
            round_trip_payment(&payment);
            verify_and_check(&payment);
        }
        Err(e) => check_error(&e, &header, MAX_BYTES),
    }
});
