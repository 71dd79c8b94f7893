// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {Eip712Signatures} from "./lib/Eip712Signatures.sol";

/// @title Hearth DataPermissions
/// @notice Grants made by a server owner's EIP-712 signature and relayed by anyone (the platform
///         pays gas). A grant lets `grantee` run `operations` on `fileIds` (or all files) of one
///         server until `expiresAt` (0 = no expiry) or until the grantor revokes it.
/// @dev Anyone can put a grant on-chain for any serverId; consumers must check that the grantor is
///      the server's owner (Hearth's PermissionChecker does).
contract DataPermissions is Eip712Signatures {
    /// @notice The message a grantor signs (EIP-712 primary type `Grant`).
    struct Grant {
        address grantor;
        address grantee;
        string serverId;
        string[] operations;
        uint256[] fileIds;
        bool allFiles;
        uint64 expiresAt;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice The message a grantor signs to revoke (EIP-712 primary type `RevokeGrant`).
    struct RevokeGrant {
        address grantor;
        uint256 grantId;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice A grant as stored, returned by `getGrant`.
    struct GrantInfo {
        address grantor;
        address grantee;
        string serverId;
        string[] operations;
        uint256[] fileIds;
        bool allFiles;
        uint64 expiresAt;
        bool revoked;
    }

    struct StoredGrant {
        address grantor;
        uint64 expiresAt;
        bool allFiles;
        bool revoked;
        address grantee;
        string serverId;
        string[] operations;
        uint256[] fileIds;
    }

    bytes32 public constant GRANT_TYPEHASH =
        keccak256(
            "Grant(address grantor,address grantee,string serverId,string[] operations,uint256[] fileIds,bool allFiles,uint64 expiresAt,uint256 nonce,uint256 deadline)"
        );
    bytes32 public constant REVOKE_GRANT_TYPEHASH =
        keccak256("RevokeGrant(address grantor,uint256 grantId,uint256 nonce,uint256 deadline)");

    error GrantNotFound(uint256 grantId);
    error GrantAlreadyRevoked(uint256 grantId);
    error NotGrantor(uint256 grantId, address caller);
    error InvalidGrantee();
    error EmptyServerId();
    error NoOperations();
    error NoFiles();
    error ExpiryInPast(uint64 expiresAt);

    event GrantAdded(uint256 indexed grantId, address indexed grantor, address indexed grantee, string serverId);
    event GrantRevoked(uint256 indexed grantId, address indexed grantor);

    uint256 private _grantCount;
    mapping(uint256 => StoredGrant) private _grants;
    /// @dev grantId => keccak256(operation) => granted; keeps isAllowed O(1).
    mapping(uint256 => mapping(bytes32 => bool)) private _operationGranted;
    /// @dev grantId => fileId => granted.
    mapping(uint256 => mapping(uint256 => bool)) private _fileGranted;

    constructor() Eip712Signatures("Hearth DataPermissions", "1") {}

    /// @notice Records a grant signed by `grant.grantor`. Callable by anyone (a relayer).
    /// @return grantId Sequential id, starting at 1.
    function addGrant(Grant calldata grant, bytes calldata signature) external returns (uint256 grantId) {
        if (grant.grantee == address(0)) revert InvalidGrantee();
        if (bytes(grant.serverId).length == 0) revert EmptyServerId();
        if (grant.operations.length == 0) revert NoOperations();
        if (!grant.allFiles && grant.fileIds.length == 0) revert NoFiles();
        if (grant.expiresAt != 0 && grant.expiresAt <= block.timestamp) revert ExpiryInPast(grant.expiresAt);

        _useSignature(grant.grantor, _hashGrant(grant), grant.nonce, grant.deadline, signature);

        grantId = ++_grantCount;
        StoredGrant storage g = _grants[grantId];
        g.grantor = grant.grantor;
        g.grantee = grant.grantee;
        g.serverId = grant.serverId;
        g.allFiles = grant.allFiles;
        g.expiresAt = grant.expiresAt;
        for (uint256 i = 0; i < grant.operations.length; ++i) {
            g.operations.push(grant.operations[i]);
            _operationGranted[grantId][keccak256(bytes(grant.operations[i]))] = true;
        }
        for (uint256 i = 0; i < grant.fileIds.length; ++i) {
            g.fileIds.push(grant.fileIds[i]);
            _fileGranted[grantId][grant.fileIds[i]] = true;
        }
        emit GrantAdded(grantId, grant.grantor, grant.grantee, grant.serverId);
    }

    /// @notice Revokes a grant; only its grantor may call this directly.
    function revokeGrant(uint256 grantId) external {
        _revoke(grantId, msg.sender);
    }

    /// @notice Revokes a grant by the grantor's signature, relayed by anyone.
    function revokeGrantBySig(RevokeGrant calldata revocation, bytes calldata signature) external {
        bytes32 structHash = keccak256(
            abi.encode(
                REVOKE_GRANT_TYPEHASH,
                revocation.grantor,
                revocation.grantId,
                revocation.nonce,
                revocation.deadline
            )
        );
        _useSignature(revocation.grantor, structHash, revocation.nonce, revocation.deadline, signature);
        _revoke(revocation.grantId, revocation.grantor);
    }

    /// @notice Whether `grantee` may run `operation` on `fileId` under grant `grantId` right now.
    /// @dev False (never a revert) for unknown, revoked or expired grants.
    function isAllowed(
        uint256 grantId,
        address grantee,
        string calldata operation,
        uint256 fileId
    ) external view returns (bool) {
        StoredGrant storage g = _grants[grantId];
        if (g.grantor == address(0)) return false;
        if (g.revoked) return false;
        if (g.expiresAt != 0 && block.timestamp >= g.expiresAt) return false;
        if (g.grantee != grantee) return false;
        if (!_operationGranted[grantId][keccak256(bytes(operation))]) return false;
        return g.allFiles || _fileGranted[grantId][fileId];
    }

    /// @notice A grant's stored fields, including whether it was revoked. Reverts if unknown.
    function getGrant(uint256 grantId) external view returns (GrantInfo memory info) {
        StoredGrant storage g = _grants[grantId];
        if (g.grantor == address(0)) revert GrantNotFound(grantId);
        info.grantor = g.grantor;
        info.grantee = g.grantee;
        info.serverId = g.serverId;
        info.operations = g.operations;
        info.fileIds = g.fileIds;
        info.allFiles = g.allFiles;
        info.expiresAt = g.expiresAt;
        info.revoked = g.revoked;
    }

    /// @notice Number of grants ever added (ids are 1..grantCount).
    function grantCount() external view returns (uint256) {
        return _grantCount;
    }

    function _revoke(uint256 grantId, address caller) private {
        StoredGrant storage g = _grants[grantId];
        if (g.grantor == address(0)) revert GrantNotFound(grantId);
        if (g.grantor != caller) revert NotGrantor(grantId, caller);
        if (g.revoked) revert GrantAlreadyRevoked(grantId);
        g.revoked = true;
        emit GrantRevoked(grantId, caller);
    }

    function _hashGrant(Grant calldata grant) private pure returns (bytes32) {
        bytes32[] memory operationHashes = new bytes32[](grant.operations.length);
        for (uint256 i = 0; i < grant.operations.length; ++i) {
            operationHashes[i] = keccak256(bytes(grant.operations[i]));
        }
        return
            keccak256(
                abi.encode(
                    GRANT_TYPEHASH,
                    grant.grantor,
                    grant.grantee,
                    keccak256(bytes(grant.serverId)),
                    keccak256(abi.encodePacked(operationHashes)),
                    keccak256(abi.encodePacked(grant.fileIds)),
                    grant.allFiles,
                    grant.expiresAt,
                    grant.nonce,
                    grant.deadline
                )
            );
    }
}
