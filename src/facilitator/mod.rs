//! The facilitator layer (async, on tokio): verify and settle payments on an
//! EVM chain ([`engine`]), exactly once ([`ledger`]), after on-chain checks
//! ([`onchain`]); the HTTP request body grammar ([`request`]); the HTTP
//! service's answers, refusals included ([`service`]); and the client
//! for a remote facilitator service ([`remote`]).

pub mod engine;
pub mod ledger;
pub mod onchain;
pub mod remote;
pub mod request;
pub mod service;

pub use engine::{Facilitator, FacilitatorConfig, FacilitatorError, SettleResult};
pub use ledger::Outcome;
pub use request::FacilitatorRequest;
