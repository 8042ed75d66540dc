//! The facilitator layer: the client for a remote facilitator service.

pub mod remote;
