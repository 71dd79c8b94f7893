// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {DpSignatures} from "./lib/DpSignatures.sol";

interface IDpGranteesWriter {
    function granteesCount() external view returns (uint256);
    function addPermission(uint256 granteeId, uint256 permissionId) external;
}

/// @notice The Data Portability Protocol's grants (permissions), as its specification's view functions expose
///         them, for the dev chain. A permission is signed by its grantor (EIP-712, any relayer submits it); ids
///         are sequential from 1. It holds from startBlock until endBlock: max while it stands, the revoking
///         block once revoked.
contract DataPortabilityPermissions is DpSignatures {
    struct PermissionInfo {
        uint256 id;
        address grantor;
        uint256 nonce;
        uint256 granteeId;
        string grant;
        uint256 startBlock;
        uint256 endBlock;
        uint256[] fileIds;
    }
    struct PermissionInput {
        uint256 nonce;
        uint256 granteeId;
        string grant;
        uint256[] fileIds;
    }
    struct RevokePermissionInput {
        uint256 nonce;
        uint256 permissionId;
    }

    event PermissionAdded(
        uint256 indexed permissionId,
        address indexed user,
        uint256 indexed granteeId,
        string grant,
        uint256[] fileIds
    );
    event PermissionRevoked(uint256 indexed permissionId);

    error NoSuchGrantee(uint256 granteeId);
    error NoSuchPermission(uint256 permissionId);
    error NotGrantor(uint256 permissionId);
    error AlreadyRevoked(uint256 permissionId);

    bytes32 private constant PERMISSION_TYPEHASH =
        keccak256("Permission(uint256 nonce,uint256 granteeId,string grant,uint256[] fileIds)");
    bytes32 private constant REVOKE_TYPEHASH = keccak256("RevokePermission(uint256 nonce,uint256 permissionId)");

    address public immutable dataRegistry;
    address public immutable dataPortabilityServers;
    address public immutable dataPortabilityGrantees;

    PermissionInfo[] private _permissions;
    mapping(address => uint256[]) private _userPermissionIds;
    mapping(uint256 => uint256[]) private _filePermissionIds;

    constructor(address registry, address servers_, address grantees_) DpSignatures("DataPortabilityPermissions", "1") {
        dataRegistry = registry;
        dataPortabilityServers = servers_;
        dataPortabilityGrantees = grantees_;
    }

    function addPermission(PermissionInput calldata permission, bytes calldata signature) external returns (uint256) {
        bytes32 structHash = keccak256(
            abi.encode(
                PERMISSION_TYPEHASH,
                permission.nonce,
                permission.granteeId,
                keccak256(bytes(permission.grant)),
                keccak256(abi.encodePacked(permission.fileIds))
            )
        );
        address grantor = _signerOf(structHash, permission.nonce, signature);
        IDpGranteesWriter grantees_ = IDpGranteesWriter(dataPortabilityGrantees);
        if (permission.granteeId == 0 || permission.granteeId > grantees_.granteesCount()) {
            revert NoSuchGrantee(permission.granteeId);
        }
        uint256 permissionId = _permissions.length + 1;
        _permissions.push(
            PermissionInfo(
                permissionId,
                grantor,
                permission.nonce,
                permission.granteeId,
                permission.grant,
                block.number,
                type(uint256).max,
                permission.fileIds
            )
        );
        _userPermissionIds[grantor].push(permissionId);
        for (uint256 i = 0; i < permission.fileIds.length; i++) {
            _filePermissionIds[permission.fileIds[i]].push(permissionId);
        }
        grantees_.addPermission(permission.granteeId, permissionId);
        emit PermissionAdded(permissionId, grantor, permission.granteeId, permission.grant, permission.fileIds);
        return permissionId;
    }

    function revokePermission(uint256 permissionId) external {
        _revoke(msg.sender, permissionId);
    }

    function revokePermissionWithSignature(
        RevokePermissionInput calldata input,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(abi.encode(REVOKE_TYPEHASH, input.nonce, input.permissionId));
        _revoke(_signerOf(structHash, input.nonce, signature), input.permissionId);
    }

    function permissions(uint256 permissionId) external view returns (PermissionInfo memory info) {
        if (permissionId == 0 || permissionId > _permissions.length) return info;
        return _permissions[permissionId - 1];
    }

    function permissionFileIds(uint256 permissionId) external view returns (uint256[] memory ids) {
        if (permissionId == 0 || permissionId > _permissions.length) return ids;
        return _permissions[permissionId - 1].fileIds;
    }

    function filePermissionIds(uint256 fileId) external view returns (uint256[] memory) {
        return _filePermissionIds[fileId];
    }

    function permissionsCount() external view returns (uint256) {
        return _permissions.length;
    }

    function userPermissionIdsValues(address user) external view returns (uint256[] memory) {
        return _userPermissionIds[user];
    }

    function _revoke(address caller, uint256 permissionId) private {
        if (permissionId == 0 || permissionId > _permissions.length) revert NoSuchPermission(permissionId);
        PermissionInfo storage p = _permissions[permissionId - 1];
        if (p.grantor != caller) revert NotGrantor(permissionId);
        if (p.endBlock != type(uint256).max) revert AlreadyRevoked(permissionId);
        p.endBlock = block.number;
        emit PermissionRevoked(permissionId);
    }
}
