// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {MockERC1271Wallet} from "TestUSDC.sol";

/// @title WalletFactory: CREATE2 deployer of MockERC1271Wallet, for ERC-6492 (counterfactual
///   wallet) tests.
/// @notice A wallet's address is fixed before it exists: `predict(signer, salt)`. It can hold
///   tokens and sign payments (wrapped in ERC-6492 with `deploy(signer, salt)` as the factory
///   calldata) before anyone deploys it.
/// @dev `deploy` is idempotent, like ERC-4337 account factories: when the wallet already has code
///   it returns the existing address instead of reverting (a bare CREATE2 collision would revert).
///   So a facilitator that races another deployment, or replays a deployment, never bricks a
///   settlement, and the factory call in an ERC-6492 simulation succeeds for deployed wallets too.
contract WalletFactory {
    event WalletDeployed(address indexed wallet, address indexed signer, bytes32 salt);

    function deploy(address signer, bytes32 salt) external returns (address wallet) {
        wallet = predict(signer, salt);
        if (wallet.code.length > 0) {
            return wallet;
        }
        MockERC1271Wallet created = new MockERC1271Wallet{salt: salt}(signer);
        require(address(created) == wallet, "WalletFactory: unexpected address");
        emit WalletDeployed(wallet, signer, salt);
    }

    function predict(address signer, bytes32 salt) public view returns (address) {
        bytes32 initCodeHash =
            keccak256(abi.encodePacked(type(MockERC1271Wallet).creationCode, abi.encode(signer)));
        return address(
            uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, initCodeHash))))
        );
    }
}
