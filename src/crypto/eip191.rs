//! EIP-191 version 0x45 ("personal_sign") message hashing.

use super::keccak::keccak256_concat;

/// `keccak256("\x19Ethereum Signed Message:\n" ‖ len(message) ‖ message)`.
pub fn hash_message(message: &[u8]) -> [u8; 32] {
    let len = message.len().to_string();
    keccak256_concat(&[b"\x19Ethereum Signed Message:\n", len.as_bytes(), message])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_world() {
        // eth_account.messages.encode_defunct(text="hello world"), hashed.
        assert_eq!(
            hex::encode(hash_message(b"hello world")),
            "d9eba16ed0ecae432b71fe008c98cc872bb4cc214d3220a36f365326cf807d68"
        );
    }
}
