// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title RevertingWallet: a contract payer whose `isValidSignature` always reverts with revert
///   data chosen by the test (a long `Error(string)`, invalid UTF-8, a custom error…).
/// @notice For tests of how a facilitator bounds and reports what a hostile or broken wallet
///   returns (EIP-1271). It holds tokens like any wallet; it never accepts a signature.
/// @dev The revert data is stored as is and returned with a raw assembly `revert`, so it can be
///   anything, including an `Error(string)` whose string is not UTF-8 (Solidity's `revert(string)`
///   would encode the same bytes; assembly makes the exact bytes explicit).
contract RevertingWallet {
    bytes private revertData;

    function setRevertData(bytes calldata data) external {
        revertData = data;
    }

    function isValidSignature(bytes32, bytes calldata) external view returns (bytes4) {
        bytes memory data = revertData;
        assembly {
            revert(add(data, 32), mload(data))
        }
    }
}
