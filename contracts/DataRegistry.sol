// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

/// @notice The Data Portability Protocol's file registry, as its specification's view functions expose it, for
///         the dev chain. File ids are sequential from 1 (0 means "no such file"); a URL is registered once.
contract DataRegistry {
    struct FileResponse {
        uint256 id;
        address ownerAddress;
        string url;
        uint256 schemaId;
        uint256 addedAtBlock;
    }
    struct Permission {
        address account;
        string key;
    }

    event FileAdded(uint256 indexed fileId, address indexed ownerAddress, string url);
    event FileAddedV2(uint256 indexed fileId, address indexed ownerAddress, string url, uint256 schemaId);
    event PermissionGranted(uint256 indexed fileId, address indexed account);

    error UrlAlreadyRegistered(uint256 fileId);
    error NotFileOwner(uint256 fileId);
    error NoSuchFile(uint256 fileId);

    FileResponse[] private _files;
    mapping(bytes32 => uint256) private _idByUrl;
    mapping(uint256 => mapping(address => string)) private _permissions;

    function addFile(string memory url) external returns (uint256) {
        return _add(url, msg.sender, 0);
    }

    function addFileWithSchema(string memory url, uint256 schemaId) external returns (uint256) {
        return _add(url, msg.sender, schemaId);
    }

    function addFileWithPermissionsAndSchema(
        string memory url,
        address ownerAddress,
        Permission[] memory permissions,
        uint256 schemaId
    ) external returns (uint256) {
        uint256 fileId = _add(url, ownerAddress, schemaId);
        for (uint256 i = 0; i < permissions.length; i++) _grant(fileId, permissions[i].account, permissions[i].key);
        return fileId;
    }

    function addFilePermission(uint256 fileId, address account, string memory key) external {
        if (fileId == 0 || fileId > _files.length) revert NoSuchFile(fileId);
        if (_files[fileId - 1].ownerAddress != msg.sender) revert NotFileOwner(fileId);
        _grant(fileId, account, key);
    }

    function files(uint256 index) external view returns (FileResponse memory) {
        if (index == 0 || index > _files.length) return FileResponse(0, address(0), "", 0, 0);
        return _files[index - 1];
    }

    function filesCount() external view returns (uint256) {
        return _files.length;
    }

    function fileIdByUrl(string memory url) external view returns (uint256) {
        return _idByUrl[keccak256(bytes(url))];
    }

    function filePermissions(uint256 fileId, address account) external view returns (string memory) {
        return _permissions[fileId][account];
    }

    function _add(string memory url, address ownerAddress, uint256 schemaId) private returns (uint256) {
        bytes32 key = keccak256(bytes(url));
        if (_idByUrl[key] != 0) revert UrlAlreadyRegistered(_idByUrl[key]);
        uint256 fileId = _files.length + 1;
        _files.push(FileResponse(fileId, ownerAddress, url, schemaId, block.number));
        _idByUrl[key] = fileId;
        emit FileAdded(fileId, ownerAddress, url);
        emit FileAddedV2(fileId, ownerAddress, url, schemaId);
        return fileId;
    }

    function _grant(uint256 fileId, address account, string memory key) private {
        _permissions[fileId][account] = key;
        emit PermissionGranted(fileId, account);
    }
}
