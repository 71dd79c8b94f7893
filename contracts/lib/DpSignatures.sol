// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

/// @notice EIP-712 domain and signer recovery for the dev chain's Data Portability registries, whose
///         signed inputs name no signer: the signer is who the signature recovers to. Only 65-byte
///         signatures with low s and v in {27, 28} (or {0, 1}) are accepted, so none can be made malleable.
abstract contract DpSignatures {
    error InvalidSignature();
    error InvalidNonce(uint256 expected, uint256 given);

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    uint256 private constant MAX_S = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    bytes32 private immutable _hashedName;
    bytes32 private immutable _hashedVersion;

    mapping(address => uint256) private _userNonces;

    constructor(string memory name, string memory version) {
        _hashedName = keccak256(bytes(name));
        _hashedVersion = keccak256(bytes(version));
    }

    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, _hashedName, _hashedVersion, block.chainid, address(this)));
    }

    /// @notice The nonce the next signed input of `user` must carry.
    function userNonce(address user) external view returns (uint256) {
        return _userNonces[user];
    }

    /// @dev The signer of `structHash`, whose nonce must be `nonce` (consumed).
    function _signerOf(bytes32 structHash, uint256 nonce, bytes calldata signature) internal returns (address) {
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", DOMAIN_SEPARATOR(), structHash));
        address signer = _recover(digest, signature);
        uint256 expected = _userNonces[signer];
        if (nonce != expected) revert InvalidNonce(expected, nonce);
        unchecked {
            _userNonces[signer] = expected + 1;
        }
        return signer;
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
