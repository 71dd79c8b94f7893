// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

/// @title The seed's data-permission interface (vana-com/vana-protocol-contracts).
/// @notice Any contract implementing it can be a Hearth server's policy: the worker asks
///         `authorized(app, fileId)` for every file before decrypting it.
interface IVanaDataPermission {
    /// @notice Whether `requester` is authorized at all.
    function authorized(address requester) external view returns (bool);

    /// @notice Whether `requester` is authorized to use file `fileId`.
    function authorized(address requester, uint256 fileId) external view returns (bool);

    /// @notice The policy's owner (for a collective: its admin).
    function owner() external view returns (address);
}
