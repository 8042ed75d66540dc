//! Wire types: what is sent (block tags, calls) and what is read back
//! (blocks, logs, receipts, fee history, a sent transaction).

use serde_json::{json, Map, Value};

use super::grammar::{
    field, object, optional, parse_address, parse_data, parse_hash, parse_quantity_u256,
    parse_quantity_u64, quantity, quantity_u256,
};
use crate::crypto::address::Address;
use crate::crypto::hexutil;
use crate::num::U256;

// ---------------------------------------------------------------------------
// Typed requests and answers
// ---------------------------------------------------------------------------

/// A block parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockTag {
    Latest,
    Pending,
    Safe,
    Finalized,
    Earliest,
    Number(u64),
}

impl BlockTag {
    pub fn to_json(&self) -> Value {
        match self {
            BlockTag::Latest => json!("latest"),
            BlockTag::Pending => json!("pending"),
            BlockTag::Safe => json!("safe"),
            BlockTag::Finalized => json!("finalized"),
            BlockTag::Earliest => json!("earliest"),
            BlockTag::Number(n) => json!(quantity(*n)),
        }
    }
}

/// The call object of `eth_call` and `eth_estimateGas`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallRequest {
    pub from: Option<Address>,
    /// `None` simulates a contract creation.
    pub to: Option<Address>,
    pub data: Vec<u8>,
    pub value: Option<U256>,
    pub gas: Option<u64>,
}

impl CallRequest {
    /// A call of `data` on `to`.
    pub fn new(to: Address, data: Vec<u8>) -> Self {
        CallRequest {
            to: Some(to),
            data,
            ..Default::default()
        }
    }

    /// The same call, made by `from`.
    pub fn from(mut self, from: Address) -> Self {
        self.from = Some(from);
        self
    }

    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        if let Some(from) = &self.from {
            obj.insert("from".into(), json!(hexutil::encode_0x(&from.0)));
        }
        if let Some(to) = &self.to {
            obj.insert("to".into(), json!(hexutil::encode_0x(&to.0)));
        }
        if let Some(gas) = self.gas {
            obj.insert("gas".into(), json!(quantity(gas)));
        }
        if let Some(value) = &self.value {
            obj.insert("value".into(), json!(quantity_u256(value)));
        }
        obj.insert("data".into(), json!(hexutil::encode_0x(&self.data)));
        Value::Object(obj)
    }
}

/// The header fields of a block that fastx402 needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub number: u64,
    pub hash: [u8; 32],
    pub parent_hash: [u8; 32],
    pub timestamp: u64,
    /// `None` before London (EIP-1559).
    pub base_fee_per_gas: Option<U256>,
    pub gas_limit: u64,
    pub gas_used: u64,
}

impl Block {
    pub fn from_json(v: &Value) -> Result<Self, String> {
        const W: &str = "block";
        let o = object(v, W)?;
        Ok(Block {
            number: parse_quantity_u64(field(o, "number", W)?, "block.number")?,
            hash: parse_hash(field(o, "hash", W)?, "block.hash")?,
            parent_hash: parse_hash(field(o, "parentHash", W)?, "block.parentHash")?,
            timestamp: parse_quantity_u64(field(o, "timestamp", W)?, "block.timestamp")?,
            base_fee_per_gas: optional(o, "baseFeePerGas")
                .map(|v| parse_quantity_u256(v, "block.baseFeePerGas"))
                .transpose()?,
            gas_limit: parse_quantity_u64(field(o, "gasLimit", W)?, "block.gasLimit")?,
            gas_used: parse_quantity_u64(field(o, "gasUsed", W)?, "block.gasUsed")?,
        })
    }
}

/// A log of a receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
    pub address: Address,
    pub topics: Vec<[u8; 32]>,
    pub data: Vec<u8>,
    pub log_index: Option<u64>,
    /// The transaction that emitted it (absent in receipts of some nodes).
    pub transaction_hash: Option<[u8; 32]>,
    pub removed: bool,
}

impl Log {
    pub fn from_json(v: &Value) -> Result<Self, String> {
        const W: &str = "log";
        let o = object(v, W)?;
        let topics = field(o, "topics", W)?
            .as_array()
            .ok_or("log.topics: expected an array")?;
        if topics.len() > 4 {
            return Err(format!("log.topics: {} topics (at most 4)", topics.len()));
        }
        Ok(Log {
            address: parse_address(field(o, "address", W)?, "log.address")?,
            topics: topics
                .iter()
                .map(|t| parse_hash(t, "log.topics[]"))
                .collect::<Result<_, _>>()?,
            data: parse_data(field(o, "data", W)?, "log.data")?,
            log_index: optional(o, "logIndex")
                .map(|v| parse_quantity_u64(v, "log.logIndex"))
                .transpose()?,
            transaction_hash: optional(o, "transactionHash")
                .map(|v| parse_hash(v, "log.transactionHash"))
                .transpose()?,
            removed: match optional(o, "removed") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(other) => {
                    return Err(format!("log.removed: expected a bool, got {other}"));
                }
            },
        })
    }
}

/// A transaction receipt (post-Byzantium: with `status`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub transaction_hash: [u8; 32],
    pub block_number: u64,
    pub block_hash: [u8; 32],
    /// `true` for status 1 (success), `false` for 0 (reverted).
    pub status: bool,
    pub from: Address,
    pub to: Option<Address>,
    pub contract_address: Option<Address>,
    pub gas_used: u64,
    pub cumulative_gas_used: u64,
    pub effective_gas_price: U256,
    pub logs: Vec<Log>,
}

impl Receipt {
    pub fn from_json(v: &Value) -> Result<Self, String> {
        const W: &str = "receipt";
        let o = object(v, W)?;
        let status = match parse_quantity_u64(field(o, "status", W)?, "receipt.status")? {
            0 => false,
            1 => true,
            s => return Err(format!("receipt.status: {s} is neither 0 nor 1")),
        };
        let logs = field(o, "logs", W)?
            .as_array()
            .ok_or("receipt.logs: expected an array")?;
        Ok(Receipt {
            transaction_hash: parse_hash(
                field(o, "transactionHash", W)?,
                "receipt.transactionHash",
            )?,
            block_number: parse_quantity_u64(field(o, "blockNumber", W)?, "receipt.blockNumber")?,
            block_hash: parse_hash(field(o, "blockHash", W)?, "receipt.blockHash")?,
            status,
            from: parse_address(field(o, "from", W)?, "receipt.from")?,
            to: optional(o, "to")
                .map(|v| parse_address(v, "receipt.to"))
                .transpose()?,
            contract_address: optional(o, "contractAddress")
                .map(|v| parse_address(v, "receipt.contractAddress"))
                .transpose()?,
            gas_used: parse_quantity_u64(field(o, "gasUsed", W)?, "receipt.gasUsed")?,
            cumulative_gas_used: parse_quantity_u64(
                field(o, "cumulativeGasUsed", W)?,
                "receipt.cumulativeGasUsed",
            )?,
            effective_gas_price: parse_quantity_u256(
                field(o, "effectiveGasPrice", W)?,
                "receipt.effectiveGasPrice",
            )?,
            logs: logs.iter().map(Log::from_json).collect::<Result<_, _>>()?,
        })
    }

    /// `0x`-prefixed transaction hash.
    pub fn transaction_hash_hex(&self) -> String {
        hexutil::encode_0x(&self.transaction_hash)
    }

    /// The logs emitted by `address`.
    pub fn logs_from<'a>(&'a self, address: &'a Address) -> impl Iterator<Item = &'a Log> + 'a {
        self.logs.iter().filter(move |l| &l.address == address)
    }
}

/// `eth_feeHistory`, without `gasUsedRatio` (floats fastx402 does not use).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeeHistory {
    pub oldest_block: u64,
    /// One entry per block, plus the next block's.
    pub base_fee_per_gas: Vec<U256>,
    /// Per block, one tip per requested percentile.
    pub reward: Vec<Vec<U256>>,
}

impl FeeHistory {
    pub fn from_json(v: &Value) -> Result<Self, String> {
        const W: &str = "feeHistory";
        let o = object(v, W)?;
        let list = |key: &str| -> Result<&Vec<Value>, String> {
            field(o, key, W)?
                .as_array()
                .ok_or_else(|| format!("feeHistory.{key}: expected an array"))
        };
        let base_fee_per_gas = list("baseFeePerGas")?
            .iter()
            .map(|v| parse_quantity_u256(v, "feeHistory.baseFeePerGas[]"))
            .collect::<Result<_, _>>()?;
        let reward = match optional(o, "reward") {
            None => Vec::new(),
            Some(_) => list("reward")?
                .iter()
                .map(|row| {
                    row.as_array()
                        .ok_or_else(|| "feeHistory.reward[]: expected an array".to_owned())?
                        .iter()
                        .map(|v| parse_quantity_u256(v, "feeHistory.reward[][]"))
                        .collect::<Result<Vec<_>, _>>()
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(FeeHistory {
            oldest_block: parse_quantity_u64(
                field(o, "oldestBlock", W)?,
                "feeHistory.oldestBlock",
            )?,
            base_fee_per_gas,
            reward,
        })
    }
}

/// A transaction the node accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// keccak256 of the raw bytes (checked against the node's answer).
    pub hash: [u8; 32],
    /// The node already had exactly these bytes ("already known").
    pub already_known: bool,
}

impl Sent {
    pub fn hash_hex(&self) -> String {
        hexutil::encode_0x(&self.hash)
    }
}
