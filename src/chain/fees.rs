//! EIP-1559 fee caps under a policy that refuses to overpay.
//!
//! ```text
//! priority = clamp(node's suggestion, priority_floor, priority_ceiling)
//! max_fee  = min(base_fee × base_fee_multiplier + priority, max_fee_ceiling)
//! refused  if base_fee + priority > max_fee_ceiling   (could not be included now)
//!          or gas_limit × max_fee > max_tx_cost      (when set)
//! ```
//!
//! With the multiplier 2 the transaction stays includable through about six
//! consecutive full blocks (+12.5 % each); the ceiling bounds what a spike (or
//! a lying node) can make fastx402 sign. The computation ([`FeePolicy::fees`])
//! is sans-I/O; [`FeePolicy::estimate`] reads the latest base fee and the
//! suggested tip (with its fallback) from the node.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use super::rpc::{RpcClient, RpcError};
use super::tx::Eip1559Tx;
use crate::num::U256;

const GWEI: u64 = 1_000_000_000;

/// Why fees were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeeError {
    /// Even `base_fee + priority` is above the ceiling: not sending now.
    #[error("fees too high: base fee {base_fee} + tip {priority} wei/gas exceeds the ceiling of {ceiling} wei/gas")]
    AboveCeiling {
        base_fee: U256,
        priority: U256,
        ceiling: U256,
    },
    /// `gas_limit × max_fee` is above [`FeePolicy::max_tx_cost`].
    #[error("transaction could cost {cost} wei, above the limit of {limit} wei")]
    CostAboveLimit { cost: U256, limit: U256 },
    /// The latest block has no base fee (a pre-London chain).
    #[error("the chain has no EIP-1559 base fee")]
    NoBaseFee,
    /// The node's gas estimate is above [`FeePolicy::max_gas_limit`].
    #[error("gas estimate {estimate} is above the limit of {limit}")]
    GasAboveLimit { estimate: u64, limit: u64 },
    #[error("fee arithmetic overflowed")]
    Overflow,
    #[error("invalid fee policy: {0}")]
    InvalidPolicy(&'static str),
    #[error("reading fees: {0}")]
    Rpc(#[from] RpcError),
}

/// Fee and gas-limit rules. All amounts in wei (per gas for fees).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeePolicy {
    /// Never sign a `max_fee_per_gas` above this.
    pub max_fee_ceiling: U256,
    /// Lowest tip offered, whatever the node suggests.
    pub priority_floor: U256,
    /// Highest tip offered, whatever the node suggests.
    pub priority_ceiling: U256,
    /// `max_fee = base_fee × this + priority`, at least 1.
    pub base_fee_multiplier: u64,
    /// If set, refuse when `gas_limit × max_fee_per_gas` exceeds it.
    pub max_tx_cost: Option<U256>,
    /// Gas limit = estimate × (100 + this) / 100.
    pub gas_headroom_percent: u64,
    /// Upper bound on any gas limit set from an estimate.
    pub max_gas_limit: u64,
}

impl Default for FeePolicy {
    fn default() -> Self {
        FeePolicy {
            max_fee_ceiling: U256::from_u64(200 * GWEI),
            priority_floor: U256::ZERO,
            priority_ceiling: U256::from_u64(5 * GWEI),
            base_fee_multiplier: 2,
            max_tx_cost: None,
            gas_headroom_percent: 20,
            max_gas_limit: 1_000_000,
        }
    }
}

/// The fee fields of one transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fees {
    /// The base fee these were computed from.
    pub base_fee: U256,
    pub max_fee_per_gas: U256,
    pub max_priority_fee_per_gas: U256,
    /// `max_fee_per_gas` was lowered to the ceiling.
    pub capped: bool,
}

impl Fees {
    /// Sets the fee fields of `tx`.
    pub fn apply(&self, tx: &mut Eip1559Tx) {
        tx.max_fee_per_gas = self.max_fee_per_gas;
        tx.max_priority_fee_per_gas = self.max_priority_fee_per_gas;
    }

    /// The most the transaction can cost in fees: `gas_limit × max_fee_per_gas`.
    pub fn max_cost(&self, gas_limit: u64) -> Option<U256> {
        checked_mul_u64(self.max_fee_per_gas, gas_limit)
    }
}

/// Runs two futures concurrently (what `tokio::join!` does, without the
/// `macros` feature and its proc-macro build).
async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    poll_fn(|cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        match (ra.take(), rb.take()) {
            (Some(x), Some(y)) => Poll::Ready((x, y)),
            (x, y) => {
                (ra, rb) = (x, y);
                Poll::Pending
            }
        }
    })
    .await
}

fn checked_add(a: U256, b: U256) -> Option<U256> {
    let mut out = [0u64; 4];
    let mut carry = false;
    for (i, limb) in out.iter_mut().enumerate() {
        let (s1, c1) = a.0[i].overflowing_add(b.0[i]);
        let (s2, c2) = s1.overflowing_add(u64::from(carry));
        *limb = s2;
        carry = c1 || c2;
    }
    (!carry).then_some(U256(out))
}

fn checked_mul_u64(a: U256, m: u64) -> Option<U256> {
    let mut out = [0u64; 4];
    let mut carry = 0u128;
    for (i, limb) in out.iter_mut().enumerate() {
        let p = u128::from(a.0[i]) * u128::from(m) + carry;
        *limb = p as u64;
        carry = p >> 64;
    }
    (carry == 0).then_some(U256(out))
}

impl FeePolicy {
    pub fn validate(&self) -> Result<(), FeeError> {
        if self.priority_floor > self.priority_ceiling {
            return Err(FeeError::InvalidPolicy(
                "priority_floor is above priority_ceiling",
            ));
        }
        if self.priority_floor > self.max_fee_ceiling {
            return Err(FeeError::InvalidPolicy(
                "priority_floor is above max_fee_ceiling",
            ));
        }
        if self.base_fee_multiplier == 0 {
            return Err(FeeError::InvalidPolicy(
                "base_fee_multiplier must be at least 1",
            ));
        }
        if self.max_gas_limit == 0 {
            return Err(FeeError::InvalidPolicy("max_gas_limit must be positive"));
        }
        Ok(())
    }

    /// The fees for `base_fee` and the node's `suggested_priority` (sans-I/O).
    pub fn fees(&self, base_fee: U256, suggested_priority: U256) -> Result<Fees, FeeError> {
        self.validate()?;
        let priority = suggested_priority
            .max(self.priority_floor)
            .min(self.priority_ceiling);
        let needed = checked_add(base_fee, priority).ok_or(FeeError::Overflow)?;
        if needed > self.max_fee_ceiling {
            return Err(FeeError::AboveCeiling {
                base_fee,
                priority,
                ceiling: self.max_fee_ceiling,
            });
        }
        // Overflow here means "more than any ceiling": cap it.
        let wanted = checked_mul_u64(base_fee, self.base_fee_multiplier)
            .and_then(|b| checked_add(b, priority));
        let (max_fee, capped) = match wanted {
            Some(w) if w <= self.max_fee_ceiling => (w, false),
            _ => (self.max_fee_ceiling, true),
        };
        Ok(Fees {
            base_fee,
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: priority,
            capped,
        })
    }

    /// Reads the latest base fee and the suggested tip, then [`FeePolicy::fees`].
    pub async fn estimate(&self, rpc: &RpcClient) -> Result<Fees, FeeError> {
        self.validate()?;
        let (block, priority) = join2(rpc.latest_block(), rpc.max_priority_fee_per_gas()).await;
        let (block, priority) = (block?, priority?);
        let base_fee = block.base_fee_per_gas.ok_or(FeeError::NoBaseFee)?;
        self.fees(base_fee, priority)
    }

    /// The gas limit for a node's `estimate`: with headroom, at most
    /// [`FeePolicy::max_gas_limit`] (refused above it).
    pub fn gas_limit(&self, estimate: u64) -> Result<u64, FeeError> {
        if estimate > self.max_gas_limit {
            return Err(FeeError::GasAboveLimit {
                estimate,
                limit: self.max_gas_limit,
            });
        }
        let with_headroom =
            u128::from(estimate) * (100 + u128::from(self.gas_headroom_percent)) / 100;
        Ok(u64::try_from(with_headroom)
            .unwrap_or(u64::MAX)
            .min(self.max_gas_limit))
    }

    /// Refuses `fees` with `gas_limit` if their worst-case cost is above
    /// [`FeePolicy::max_tx_cost`]; returns that cost.
    pub fn check_cost(&self, fees: &Fees, gas_limit: u64) -> Result<U256, FeeError> {
        let cost = fees.max_cost(gas_limit).ok_or(FeeError::Overflow)?;
        match self.max_tx_cost {
            Some(limit) if cost > limit => Err(FeeError::CostAboveLimit { cost, limit }),
            _ => Ok(cost),
        }
    }
}

#[cfg(test)]
mod tests;
