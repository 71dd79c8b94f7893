// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {DpSignatures} from "./lib/DpSignatures.sol";

/// @notice The Data Portability Protocol's personal-server registry, as its specification's view functions
///         expose it, for the dev chain. Server ids are sequential from 1 (0 means "not registered"). A trust
///         lasts from the block it was given until the block it was withdrawn (endBlock, max while it holds).
contract DataPortabilityServers is DpSignatures {
    struct ServerInfo {
        uint256 id;
        address owner;
        address serverAddress;
        string publicKey;
        string url;
    }
    struct TrustedServerInfo {
        uint256 id;
        address owner;
        address serverAddress;
        string publicKey;
        string url;
        uint256 startBlock;
        uint256 endBlock;
    }
    struct AddServerInput {
        address serverAddress;
        string publicKey;
        string serverUrl;
    }
    struct AddServerWithSignatureInput {
        uint256 nonce;
        address serverAddress;
        string publicKey;
        string serverUrl;
    }

    event ServerRegistered(
        uint256 indexed serverId,
        address indexed owner,
        address indexed serverAddress,
        string publicKey,
        string url
    );
    event ServerUpdated(uint256 indexed serverId, string url);
    event ServerTrusted(address indexed user, uint256 indexed serverId);
    event ServerUntrusted(address indexed user, uint256 indexed serverId);

    error NotManager();
    error NotServerOwner(uint256 serverId);
    error ServerAlreadyRegistered(uint256 serverId);
    error NoSuchServer(uint256 serverId);
    error ZeroAddress();

    bytes32 private constant ADD_SERVER_TYPEHASH =
        keccak256("AddServer(uint256 nonce,address serverAddress,string publicKey,string serverUrl)");

    address private immutable _manager;
    ServerInfo[] private _servers;
    mapping(address => uint256) private _idByAddress;
    mapping(address => uint256[]) private _userServerIds;
    mapping(address => mapping(uint256 => uint256)) private _trustStart;
    mapping(address => mapping(uint256 => uint256)) private _trustEnd;

    constructor() DpSignatures("DataPortabilityServers", "1") {
        _manager = msg.sender;
    }

    function addAndTrustServerByManager(address ownerAddress, AddServerInput calldata input) external {
        if (msg.sender != _manager) revert NotManager();
        uint256 serverId = _register(ownerAddress, input.serverAddress, input.publicKey, input.serverUrl);
        _trust(ownerAddress, serverId);
    }

    function addAndTrustServerWithSignature(
        AddServerWithSignatureInput calldata input,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(
                ADD_SERVER_TYPEHASH,
                input.nonce,
                input.serverAddress,
                keccak256(bytes(input.publicKey)),
                keccak256(bytes(input.serverUrl))
            )
        );
        address owner = _signerOf(structHash, input.nonce, signature);
        uint256 serverId = _register(owner, input.serverAddress, input.publicKey, input.serverUrl);
        _trust(owner, serverId);
    }

    function updateServer(uint256 serverId, string memory url) external {
        ServerInfo storage s = _existing(serverId);
        if (s.owner != msg.sender) revert NotServerOwner(serverId);
        s.url = url;
        emit ServerUpdated(serverId, url);
    }

    function trustServer(uint256 serverId) external {
        _existing(serverId);
        _trust(msg.sender, serverId);
    }

    function untrustServer(uint256 serverId) external {
        _existing(serverId);
        if (_trustStart[msg.sender][serverId] != 0 && _trustEnd[msg.sender][serverId] == type(uint256).max) {
            _trustEnd[msg.sender][serverId] = block.number;
            emit ServerUntrusted(msg.sender, serverId);
        }
    }

    function servers(uint256 serverId) public view returns (ServerInfo memory info) {
        if (serverId == 0 || serverId > _servers.length) return info;
        return _servers[serverId - 1];
    }

    function serverByAddress(address serverAddress) external view returns (ServerInfo memory) {
        return servers(_idByAddress[serverAddress]);
    }

    function userServerValues(address userAddress) external view returns (TrustedServerInfo[] memory list) {
        uint256[] storage ids = _userServerIds[userAddress];
        list = new TrustedServerInfo[](ids.length);
        for (uint256 i = 0; i < ids.length; i++) list[i] = userServers(userAddress, ids[i]);
    }

    function userServers(address userAddress, uint256 serverId) public view returns (TrustedServerInfo memory t) {
        if (_trustStart[userAddress][serverId] == 0) return t;
        ServerInfo memory s = servers(serverId);
        return
            TrustedServerInfo(
                s.id,
                s.owner,
                s.serverAddress,
                s.publicKey,
                s.url,
                _trustStart[userAddress][serverId],
                _trustEnd[userAddress][serverId]
            );
    }

    function _register(
        address owner,
        address serverAddress,
        string memory publicKey,
        string memory url
    ) private returns (uint256 serverId) {
        if (owner == address(0) || serverAddress == address(0)) revert ZeroAddress();
        if (_idByAddress[serverAddress] != 0) revert ServerAlreadyRegistered(_idByAddress[serverAddress]);
        _servers.push(ServerInfo(_servers.length + 1, owner, serverAddress, publicKey, url));
        serverId = _servers.length;
        _idByAddress[serverAddress] = serverId;
        emit ServerRegistered(serverId, owner, serverAddress, publicKey, url);
    }

    function _trust(address user, uint256 serverId) private {
        if (_trustStart[user][serverId] == 0) _userServerIds[user].push(serverId);
        _trustStart[user][serverId] = block.number;
        _trustEnd[user][serverId] = type(uint256).max;
        emit ServerTrusted(user, serverId);
    }

    function _existing(uint256 serverId) private view returns (ServerInfo storage) {
        if (serverId == 0 || serverId > _servers.length) revert NoSuchServer(serverId);
        return _servers[serverId - 1];
    }
}
