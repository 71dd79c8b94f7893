// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

/// @notice Minimal EIP-712 domain + ECDSA recovery shared by Hearth's contracts.
/// @dev Written in-house (no OpenZeppelin dependency). Only 65-byte (r, s, v) signatures are
///      accepted; high-s values and v outside {27, 28} (or {0, 1}) are rejected, so a signature
///      cannot be made malleable into a second valid one.
abstract contract Eip712Signatures {
    error InvalidSignature();
    error SignatureExpired(uint256 deadline);
    error InvalidNonce(uint256 expected, uint256 given);

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    /// @dev secp256k1n / 2: the largest s value allowed (EIP-2).
    uint256 private constant MAX_S = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    bytes32 private immutable _hashedName;
    bytes32 private immutable _hashedVersion;
    uint256 private immutable _cachedChainId;
    bytes32 private immutable _cachedDomainSeparator;

    mapping(address => uint256) private _nonces;

    constructor(string memory name, string memory version) {
        _hashedName = keccak256(bytes(name));
        _hashedVersion = keccak256(bytes(version));
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = _buildDomainSeparator();
    }

    /// @notice The EIP-712 domain separator for the current chain.
    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        // Recompute after a chain fork so signatures never replay across chains.
        return block.chainid == _cachedChainId ? _cachedDomainSeparator : _buildDomainSeparator();
    }

    /// @notice The next nonce a signature of `signer` must carry.
    function nonces(address signer) external view returns (uint256) {
        return _nonces[signer];
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, _hashedName, _hashedVersion, block.chainid, address(this)));
    }

    /// @dev Checks deadline and nonce, consumes the nonce, and requires `expectedSigner` signed `structHash`.
    function _useSignature(
        address expectedSigner,
        bytes32 structHash,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) internal {
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        uint256 expected = _nonces[expectedSigner];
        if (nonce != expected) revert InvalidNonce(expected, nonce);
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", DOMAIN_SEPARATOR(), structHash));
        if (expectedSigner == address(0) || _recover(digest, signature) != expectedSigner) {
            revert InvalidSignature();
        }
        unchecked {
            _nonces[expectedSigner] = expected + 1;
        }
    }

    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address) {
        if (signature.length != 65) revert InvalidSignature();
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := calldataload(signature.offset)
            s := calldataload(add(signature.offset, 32))
            v := byte(0, calldataload(add(signature.offset, 64)))
        }
        if (v < 27) v += 27;
        if (v != 27 && v != 28) revert InvalidSignature();
        if (uint256(s) > MAX_S) revert InvalidSignature();
        address signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert InvalidSignature();
        return signer;
    }
}
