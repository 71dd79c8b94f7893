// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

/// @notice The Data Portability Protocol's builder (grantee) registry, as its specification's view functions
///         expose it, for the dev chain. Grantee ids are sequential from 1 (0 means "not registered"); the
///         permissions contract set once by the deployer appends each new permission to its grantee.
contract DataPortabilityGrantees {
    struct GranteeInfo {
        address owner;
        address granteeAddress;
        string publicKey;
        string appUrl;
        uint256[] permissionIds;
    }
    struct GranteeInfoV2 {
        address owner;
        address granteeAddress;
        string publicKey;
        string appUrl;
        uint256 permissionsCount;
    }

    event GranteeRegistered(
        uint256 indexed granteeId,
        address indexed owner,
        address indexed granteeAddress,
        string publicKey,
        string appUrl
    );

    error GranteeAlreadyRegistered(uint256 granteeId);
    error ZeroAddress();
    error NotPermissionsContract();
    error PermissionsContractAlreadySet();
    error NoSuchGrantee(uint256 granteeId);

    address private immutable _deployer;
    address public permissionsContract;
    GranteeInfo[] private _grantees;
    mapping(address => uint256) private _idByAddress;

    constructor() {
        _deployer = msg.sender;
    }

    /// @notice Once, by the deployer: the contract allowed to record permissions on grantees.
    function setPermissionsContract(address permissions) external {
        if (msg.sender != _deployer) revert NotPermissionsContract();
        if (permissionsContract != address(0)) revert PermissionsContractAlreadySet();
        permissionsContract = permissions;
    }

    function registerGrantee(
        address owner,
        address granteeAddress,
        string memory publicKey,
        string memory appUrl
    ) external returns (uint256) {
        if (owner == address(0) || granteeAddress == address(0)) revert ZeroAddress();
        if (_idByAddress[granteeAddress] != 0) revert GranteeAlreadyRegistered(_idByAddress[granteeAddress]);
        _grantees.push(GranteeInfo(owner, granteeAddress, publicKey, appUrl, new uint256[](0)));
        uint256 granteeId = _grantees.length;
        _idByAddress[granteeAddress] = granteeId;
        emit GranteeRegistered(granteeId, owner, granteeAddress, publicKey, appUrl);
        return granteeId;
    }

    function addPermission(uint256 granteeId, uint256 permissionId) external {
        if (msg.sender != permissionsContract) revert NotPermissionsContract();
        if (granteeId == 0 || granteeId > _grantees.length) revert NoSuchGrantee(granteeId);
        _grantees[granteeId - 1].permissionIds.push(permissionId);
    }

    function grantees(uint256 granteeId) public view returns (GranteeInfo memory info) {
        if (granteeId == 0 || granteeId > _grantees.length) return info;
        return _grantees[granteeId - 1];
    }

    function granteesV2(uint256 granteeId) public view returns (GranteeInfoV2 memory info) {
        if (granteeId == 0 || granteeId > _grantees.length) return info;
        GranteeInfo storage g = _grantees[granteeId - 1];
        return GranteeInfoV2(g.owner, g.granteeAddress, g.publicKey, g.appUrl, g.permissionIds.length);
    }

    function granteeByAddress(address granteeAddress) external view returns (GranteeInfo memory) {
        return grantees(_idByAddress[granteeAddress]);
    }

    function granteeByAddressV2(address granteeAddress) external view returns (GranteeInfoV2 memory) {
        return granteesV2(_idByAddress[granteeAddress]);
    }

    function granteeAddressToId(address granteeAddress) external view returns (uint256) {
        return _idByAddress[granteeAddress];
    }

    function granteesCount() external view returns (uint256) {
        return _grantees.length;
    }

    function granteePermissions(uint256 granteeId) external view returns (uint256[] memory) {
        return grantees(granteeId).permissionIds;
    }
}
