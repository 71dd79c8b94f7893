// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {IVanaDataPermission} from "./IVanaDataPermission.sol";
import {Eip712Signatures} from "./lib/Eip712Signatures.sol";

/// @title Hearth Whitelist: a collective's app whitelist implementing the seed's interface.
/// @notice The owner (a collective admin, set at deployment) adds and removes apps directly, or
///         signs an EIP-712 `WhitelistChange` that the platform relays (the admin pays no gas).
contract Whitelist is IVanaDataPermission, Eip712Signatures {
    /// @notice The message the owner signs (EIP-712 primary type `WhitelistChange`).
    struct WhitelistChange {
        address owner;
        address account;
        bool add;
        uint256 nonce;
        uint256 deadline;
    }

    bytes32 public constant WHITELIST_CHANGE_TYPEHASH =
        keccak256("WhitelistChange(address owner,address account,bool add,uint256 nonce,uint256 deadline)");

    error NotOwner(address caller);
    error ZeroAddress();

    event Added(address indexed account);
    event Removed(address indexed account);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    address public owner;
    mapping(address => bool) private _whitelisted;

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor(address initialOwner) Eip712Signatures("Hearth Whitelist", "1") {
        if (initialOwner == address(0)) revert ZeroAddress();
        owner = initialOwner;
        emit OwnershipTransferred(address(0), initialOwner);
    }

    function add(address account) external onlyOwner {
        _set(account, true);
    }

    function remove(address account) external onlyOwner {
        _set(account, false);
    }

    /// @notice Applies a change signed by the current owner; callable by anyone (a relayer).
    function changeBySig(WhitelistChange calldata change, bytes calldata signature) public {
        if (change.owner != owner) revert NotOwner(change.owner);
        bytes32 structHash = keccak256(
            abi.encode(
                WHITELIST_CHANGE_TYPEHASH,
                change.owner,
                change.account,
                change.add,
                change.nonce,
                change.deadline
            )
        );
        _useSignature(change.owner, structHash, change.nonce, change.deadline, signature);
        _set(change.account, change.add);
    }

    /// @notice `changeBySig` for an add; `change.add` must be true.
    function addBySig(WhitelistChange calldata change, bytes calldata signature) external {
        if (!change.add) revert InvalidSignature();
        changeBySig(change, signature);
    }

    /// @notice `changeBySig` for a removal; `change.add` must be false.
    function removeBySig(WhitelistChange calldata change, bytes calldata signature) external {
        if (change.add) revert InvalidSignature();
        changeBySig(change, signature);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    function authorized(address requester) external view returns (bool) {
        return _whitelisted[requester];
    }

    /// @dev The whitelist is not file-scoped: the answer is the same as `authorized(requester)`.
    function authorized(address requester, uint256) external view returns (bool) {
        return _whitelisted[requester];
    }

    function _set(address account, bool allowed) private {
        if (account == address(0)) revert ZeroAddress();
        _whitelisted[account] = allowed;
        if (allowed) emit Added(account);
        else emit Removed(account);
    }
}
