//! Panics stopped at a boundary. The Python adapter runs every blocking call
//! and every awaitable through [`catch`] / [`catch_future`], so a bug in the
//! core (a panic) becomes a typed error instead of crossing into Python as
//! `pyo3_runtime.PanicException` (a `BaseException`, which `except Exception`
//! does not catch). Sans-PyO3 so that it is tested by `cargo test --lib`.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Poll;

use crate::text::bounded;

/// A panic that was caught: its message (bounded, see [`crate::text`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Panicked {
    pub message: String,
}

impl Panicked {
    fn from_payload(payload: Box<dyn Any + Send>) -> Self {
        let text = match payload.downcast_ref::<&'static str>() {
            Some(s) => s,
            None => payload
                .downcast_ref::<String>()
                .map_or("panic without a message", String::as_str),
        };
        Panicked {
            message: bounded(text).to_string(),
        }
    }
}

impl fmt::Display for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "internal error (a bug in fastx402): {}", self.message)
    }
}

impl std::error::Error for Panicked {}

/// `f()`, or the panic it raised. Whatever `f` touched is assumed consistent
/// after a panic (the core holds no lock across a panic point that callers
/// reuse; a poisoned mutex is reported by its next user).
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, Panicked> {
    catch_unwind(AssertUnwindSafe(f)).map_err(Panicked::from_payload)
}

/// `fut`'s output, or the panic one of its polls raised (the future is then
/// dropped, never polled again).
pub async fn catch_future<F: Future>(fut: F) -> Result<F::Output, Panicked> {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(move |cx| match catch(|| fut.as_mut().poll(cx)) {
        Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(p) => Poll::Ready(Err(p)),
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{CHAIN_TEXT_MAX_BYTES, ELLIPSIS};

    #[test]
    fn catch_passes_values_and_stops_panics() {
        assert_eq!(catch(|| 7), Ok(7));
        let p = catch(|| -> u8 { panic!("boom {}", 42) }).unwrap_err();
        assert_eq!(p.message, "boom 42");
        assert_eq!(p.to_string(), "internal error (a bug in fastx402): boom 42");
        let p = catch(|| -> u8 { panic!("static") }).unwrap_err();
        assert_eq!(p.message, "static");
        let p = catch(|| std::panic::panic_any(5u32)).unwrap_err();
        assert_eq!(p.message, "panic without a message");
        // `expect` on an error, as the adapter once did with a long answer.
        let long: Result<(), String> = std::hint::black_box(Err("x".repeat(10_000)));
        let p = catch(|| long.expect("parse")).unwrap_err();
        assert!(p.message.starts_with("parse: \"xxx"));
        assert!(p.message.len() <= CHAIN_TEXT_MAX_BYTES + ELLIPSIS.len() + 16);
    }

    #[test]
    fn catch_future_stops_panics_in_any_poll() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(catch_future(async { 1 })), Ok(1));
        // A panic after a suspension point (a later poll), on a multi-line message.
        let p = rt
            .block_on(catch_future(async {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                let v: Option<u8> = std::hint::black_box(None);
                v.expect("line one\nline two")
            }))
            .unwrap_err();
        assert_eq!(p.message, "line one\\nline two");
        // The runtime is still usable afterwards.
        assert_eq!(rt.block_on(catch_future(async { 2 })), Ok(2));
    }
}
