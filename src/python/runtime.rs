//! One tokio runtime for every I/O call made from Python: awaitables run on it
//! through `pyo3-async-runtimes`, and blocking twins `block_on` it with the GIL
//! released. Both stop panics: see [`panic_error`].

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use pyo3::prelude::*;

use super::errors::panic_error;
use crate::error::Error;
use crate::unwind::{catch, catch_future};

/// The process-wide runtime (two workers: the work is I/O-bound), started on
/// first use: importing fastx402 for its CPU work starts no threads.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fastx402-io")
            .enable_all()
            .build()
            .expect("fastx402: cannot start the tokio runtime")
    })
}

/// [`runtime`], registered with `pyo3-async-runtimes` once.
fn registered() -> &'static tokio::runtime::Runtime {
    static REGISTERED: OnceLock<()> = OnceLock::new();
    REGISTERED.get_or_init(|| {
        let _ = pyo3_async_runtimes::tokio::init_with_runtime(runtime());
    });
    runtime()
}

/// A Python awaitable for `fut` (driven by the shared runtime). A panic while
/// it runs raises [`panic_error`]'s exception: put the whole binding,
/// conversions included, in `fut`.
pub fn awaitable<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    registered();
    pyo3_async_runtimes::tokio::future_into_py(py, async move {
        catch_future(fut).await.map_err(panic_error)?
    })
}

/// Runs `fut` to completion on the shared runtime with the GIL released: the
/// blocking twin of [`awaitable`], with the same panic rule. Must not be
/// called from a runtime thread.
pub fn block_on<F, T>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = PyResult<T>> + Send,
    T: Send,
{
    py.detach(|| catch(|| registered().block_on(fut)))
        .map_err(panic_error)?
}

/// A timeout argument: a positive, finite number of seconds (else a
/// configuration mistake, `ConfigError`).
pub fn seconds(name: &str, value: f64) -> Result<Duration, Error> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| Error::config(format!("{name} must be a positive number of seconds")))
}

/// `#[pymethods]` for a class whose I/O operations each come as an awaitable
/// method and a `*_blocking` twin (GIL released), both generated from ONE body.
///
/// Each `async fn name / name_blocking (..) -> Out { prepare; async move { .. } }`
/// body runs its preparation (argument conversion, clones) while the GIL is held
/// and evaluates to a `Send + 'static` future of `PyResult<Out>`: the awaitable
/// method hands it to [`awaitable`], the twin to [`block_on`] (same panic rule).
/// Everything after `;` is copied into the same `#[pymethods]` block as it is.
macro_rules! pymethods_with_twins {
    (
        impl $ty:ident {
            $(
                $(#[doc = $doc:literal])*
                #[pyo3(signature = $sig:tt)]
                async fn $name:ident / $blocking:ident (
                    &$self:ident, $py:ident $(, $arg:ident : $argty:ty)* $(,)?
                ) -> $out:ty $body:block
            )*
            ;
            $($rest:tt)*
        }
    ) => {
        #[pyo3::pymethods]
        impl $ty {
            $(
                $(#[doc = $doc])*
                #[pyo3(signature = $sig)]
                fn $name<'py>(
                    &$self,
                    $py: pyo3::Python<'py>
                    $(, $arg: $argty)*
                ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                    let future = $body;
                    $crate::python::runtime::awaitable($py, future)
                }

                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = "Blocking twin: runs to completion with the GIL released."]
                #[pyo3(signature = $sig)]
                fn $blocking<'py>(
                    &$self,
                    $py: pyo3::Python<'py>
                    $(, $arg: $argty)*
                ) -> pyo3::PyResult<$out> {
                    let future = $body;
                    $crate::python::runtime::block_on($py, future)
                }
            )*

            $($rest)*
        }
    };
}
pub(super) use pymethods_with_twins;
