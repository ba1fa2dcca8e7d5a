// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721URIStorage} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721URIStorage.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title TwinMint non-fungible right (NFR)
/// @notice One token per surveyed asset (a forest plot, a pipeline). The token carries the
/// keccak-256 model fingerprint of the survey package, its append-only survey history, a pledge
/// (collateral lock) and the latest valuation.
///
/// Why each rule exists:
/// - Only whitelisted (KYC'd) addresses may hold a token: a lender must know who it deals with,
///   so mint, transfer and seize all check the recipient, and transfers also check the sender.
/// - A fingerprint can be minted once, ever: the same survey can never back two tokens, and a
///   fingerprint appended by a resurvey is taken too.
/// - A mint or resurvey needs an EIP-712 attestation by an address holding SURVEYOR_ROLE, so the
///   chain records who vouched that the package matches the ground.
/// - A pledged token is frozen in place (ERC-7943-style `canTransfer` false) until the lender
///   releases it, or seizes it on default; it can be pledged to one lender at a time.
///
/// EIP-712 domain: name "TwinMint", version "1", the chain id and this contract's address.
/// Signed types (exact type strings):
///   Attestation(address to,bytes32 fingerprint,bytes32 captureHash,string uri)
///   Resurvey(uint256 tokenId,bytes32 fingerprint,bytes32 captureHash,string uri)
/// No nonce is needed: each attestation names a fingerprint, and a fingerprint is single-use.
contract TwinMintNFR is ERC721URIStorage, AccessControl, EIP712 {
    /// KYC desk: maintains the holder whitelist.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// Registered surveyors whose EIP-712 attestations can mint and resurvey.
    bytes32 public constant SURVEYOR_ROLE = keccak256("SURVEYOR_ROLE");
    /// Valuation oracle: publishes asset values.
    bytes32 public constant VALUATION_ORACLE_ROLE = keccak256("VALUATION_ORACLE_ROLE");

    bytes32 public constant ATTESTATION_TYPEHASH =
        keccak256("Attestation(address to,bytes32 fingerprint,bytes32 captureHash,string uri)");
    bytes32 public constant RESURVEY_TYPEHASH =
        keccak256("Resurvey(uint256 tokenId,bytes32 fingerprint,bytes32 captureHash,string uri)");

    /// One survey of the asset: the model fingerprint, the capture metadata hash, who attested.
    struct Survey {
        bytes32 fingerprint;
        bytes32 captureHash;
        address surveyor;
        uint64 timestamp;
    }

    /// A collateral lock. `lender == address(0)` means not pledged.
    struct Pledge {
        address lender;
        bytes32 loanRef;
        uint64 since;
    }

    /// Latest published value, in the smallest unit of `currency` (e.g. "USD" cents as bytes32).
    struct Valuation {
        uint256 value;
        bytes32 currency;
        uint64 asOf;
        address oracle;
    }

    error NotWhitelisted(address account);
    error AlreadyMinted(bytes32 fingerprint, uint256 tokenId);
    error ZeroFingerprint();
    error InvalidAttestation(address recovered);
    error Pledged(uint256 tokenId, address lender);
    error NotPledged(uint256 tokenId);
    error NotLender(uint256 tokenId, address caller);
    error NotOwner(uint256 tokenId, address caller);
    error InvalidLender(address lender);

    event WhitelistUpdated(address indexed account, bool whitelisted);
    event Minted(
        uint256 indexed tokenId, address indexed to, bytes32 indexed fingerprint, bytes32 captureHash, address surveyor
    );
    event Resurveyed(
        uint256 indexed tokenId, bytes32 indexed fingerprint, bytes32 captureHash, address surveyor, uint256 index
    );
    event TokenPledged(uint256 indexed tokenId, address indexed lender, bytes32 loanRef);
    event PledgeReleased(uint256 indexed tokenId, address indexed lender);
    event TokenSeized(uint256 indexed tokenId, address indexed lender, address indexed from);
    event ValuationSet(uint256 indexed tokenId, uint256 value, bytes32 currency, uint64 asOf, address oracle);

    uint256 private _nextTokenId = 1; // 0 means "none" in tokenOfFingerprint
    mapping(address account => bool) private _whitelisted;
    mapping(bytes32 fingerprint => uint256 tokenId) private _tokenOfFingerprint;
    mapping(uint256 tokenId => Survey[]) private _surveys;
    mapping(uint256 tokenId => Pledge) private _pledges;
    mapping(uint256 tokenId => Valuation) private _valuations;

    /// @param authority holds DEFAULT_ADMIN_ROLE: grants and revokes every other role.
    constructor(address authority) ERC721("TwinMint NFR", "TMNFR") EIP712("TwinMint", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, authority);
    }

    // ------------------------------------------------------------------ whitelist

    function setWhitelisted(address account, bool allowed) external onlyRole(REGISTRAR_ROLE) {
        _whitelisted[account] = allowed;
        emit WhitelistUpdated(account, allowed);
    }

    function isWhitelisted(address account) public view returns (bool) {
        return _whitelisted[account];
    }

    /// ERC-7943-style: may `account` hold and move tokens at all?
    function canTransact(address account) external view returns (bool) {
        return _whitelisted[account];
    }

    // ------------------------------------------------------------------ mint and resurvey

    /// Mint a token for a surveyed asset to `to`. Anyone may submit (the owner from their own
    /// wallet, or the surveyor); the surveyor's signature binds every argument.
    function mint(address to, string calldata uri, bytes32 fingerprint, bytes32 captureHash, bytes calldata signature)
        external
        returns (uint256 tokenId)
    {
        _requireFreshFingerprint(fingerprint);
        bytes32 digest = attestationDigest(to, fingerprint, captureHash, uri);
        address surveyor = _requireSurveyor(digest, signature);

        tokenId = _nextTokenId++;
        _tokenOfFingerprint[fingerprint] = tokenId;
        _surveys[tokenId].push(Survey(fingerprint, captureHash, surveyor, uint64(block.timestamp)));
        _mint(to, tokenId); // checks the whitelist in _update
        _setTokenURI(tokenId, uri);
        emit Minted(tokenId, to, fingerprint, captureHash, surveyor);
    }

    /// Append a new survey of an existing token: its history grows, nothing is overwritten.
    function resurvey(
        uint256 tokenId,
        bytes32 newFingerprint,
        bytes32 captureHash,
        string calldata uri,
        bytes calldata signature
    ) external {
        _requireOwned(tokenId);
        _requireFreshFingerprint(newFingerprint);
        address surveyor =
            _requireSurveyor(resurveyDigest(tokenId, newFingerprint, captureHash, uri), signature);

        _tokenOfFingerprint[newFingerprint] = tokenId;
        Survey[] storage history_ = _surveys[tokenId];
        history_.push(Survey(newFingerprint, captureHash, surveyor, uint64(block.timestamp)));
        _setTokenURI(tokenId, uri); // emits MetadataUpdate
        emit Resurveyed(tokenId, newFingerprint, captureHash, surveyor, history_.length - 1);
    }

    /// The EIP-712 digest a surveyor signs to attest a mint.
    function attestationDigest(address to, bytes32 fingerprint, bytes32 captureHash, string calldata uri)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(ATTESTATION_TYPEHASH, to, fingerprint, captureHash, keccak256(bytes(uri))))
        );
    }

    /// The EIP-712 digest a surveyor signs to attest a resurvey.
    function resurveyDigest(uint256 tokenId, bytes32 fingerprint, bytes32 captureHash, string calldata uri)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(RESURVEY_TYPEHASH, tokenId, fingerprint, captureHash, keccak256(bytes(uri))))
        );
    }

    /// Token holding `fingerprint` (minted or appended by a resurvey), or 0 when none.
    function tokenOfFingerprint(bytes32 fingerprint) external view returns (uint256) {
        return _tokenOfFingerprint[fingerprint];
    }

    function isMinted(bytes32 fingerprint) external view returns (bool) {
        return _tokenOfFingerprint[fingerprint] != 0;
    }

    /// Every fingerprint of the token, oldest first.
    function history(uint256 tokenId) external view returns (bytes32[] memory fingerprints) {
        _requireOwned(tokenId);
        Survey[] storage s = _surveys[tokenId];
        fingerprints = new bytes32[](s.length);
        for (uint256 i = 0; i < s.length; i++) {
            fingerprints[i] = s[i].fingerprint;
        }
    }

    /// Every survey of the token (fingerprint, capture hash, surveyor, time), oldest first.
    function surveys(uint256 tokenId) external view returns (Survey[] memory) {
        _requireOwned(tokenId);
        return _surveys[tokenId];
    }

    /// The latest fingerprint.
    function fingerprintOf(uint256 tokenId) external view returns (bytes32) {
        _requireOwned(tokenId);
        Survey[] storage s = _surveys[tokenId];
        return s[s.length - 1].fingerprint;
    }

    function totalMinted() external view returns (uint256) {
        return _nextTokenId - 1;
    }

    // ------------------------------------------------------------------ pledge

    /// Lock the token as collateral for `lender` under the loan `loanRef` (an off-chain
    /// reference, e.g. the hash of the loan agreement). Only the owner can pledge.
    function pledge(uint256 tokenId, address lender, bytes32 loanRef) external {
        address owner = _requireOwned(tokenId);
        if (msg.sender != owner) revert NotOwner(tokenId, msg.sender);
        if (lender == address(0)) revert InvalidLender(lender);
        Pledge storage p = _pledges[tokenId];
        if (p.lender != address(0)) revert Pledged(tokenId, p.lender);
        _pledges[tokenId] = Pledge(lender, loanRef, uint64(block.timestamp));
        emit TokenPledged(tokenId, lender, loanRef);
    }

    /// The lender lifts the lock (loan repaid).
    function release(uint256 tokenId) external {
        address lender = _requireLender(tokenId);
        delete _pledges[tokenId];
        emit PledgeReleased(tokenId, lender);
    }

    /// The lender takes the token on default. The lender must be whitelisted; the defaulting
    /// owner need not be (their KYC may have lapsed, which must not block enforcement).
    function seize(uint256 tokenId) external {
        address lender = _requireLender(tokenId);
        if (!_whitelisted[lender]) revert NotWhitelisted(lender);
        address from = _ownerOf(tokenId);
        delete _pledges[tokenId];
        // Bypass this contract's _update override (it would check the owner's whitelist entry);
        // the lender's entry was checked above.
        ERC721._update(lender, tokenId, address(0));
        emit TokenSeized(tokenId, lender, from);
    }

    function pledgeOf(uint256 tokenId) external view returns (Pledge memory) {
        _requireOwned(tokenId);
        return _pledges[tokenId];
    }

    /// ERC-7943-style transfer pre-check: true when `transferFrom(from, to, tokenId)` by an
    /// authorised caller would pass the whitelist and pledge rules.
    function canTransfer(address from, address to, uint256 tokenId) external view returns (bool) {
        return _ownerOf(tokenId) == from && from != address(0) && _whitelisted[from] && _whitelisted[to]
            && _pledges[tokenId].lender == address(0);
    }

    // ------------------------------------------------------------------ valuation

    function setValuation(uint256 tokenId, uint256 value, bytes32 currency, uint64 asOf)
        external
        onlyRole(VALUATION_ORACLE_ROLE)
    {
        _requireOwned(tokenId);
        _valuations[tokenId] = Valuation(value, currency, asOf, msg.sender);
        emit ValuationSet(tokenId, value, currency, asOf, msg.sender);
        emit MetadataUpdate(tokenId);
    }

    function valuationOf(uint256 tokenId) external view returns (Valuation memory) {
        _requireOwned(tokenId);
        return _valuations[tokenId];
    }

    // ------------------------------------------------------------------ internals

    /// Every mint and transfer passes here: recipient (and, for transfers, sender) must be
    /// whitelisted, and a pledged token cannot move. `seize` bypasses this on purpose.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address) {
        address from = _ownerOf(tokenId);
        if (to != address(0) && !_whitelisted[to]) revert NotWhitelisted(to);
        if (from != address(0)) {
            address lender = _pledges[tokenId].lender;
            if (lender != address(0)) revert Pledged(tokenId, lender);
            if (!_whitelisted[from]) revert NotWhitelisted(from);
        }
        return super._update(to, tokenId, auth);
    }

    function _requireFreshFingerprint(bytes32 fingerprint) private view {
        if (fingerprint == bytes32(0)) revert ZeroFingerprint();
        uint256 existing = _tokenOfFingerprint[fingerprint];
        if (existing != 0) revert AlreadyMinted(fingerprint, existing);
    }

    function _requireSurveyor(bytes32 digest, bytes calldata signature) private view returns (address) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err != ECDSA.RecoverError.NoError || !hasRole(SURVEYOR_ROLE, recovered)) {
            revert InvalidAttestation(recovered);
        }
        return recovered;
    }

    function _requireLender(uint256 tokenId) private view returns (address lender) {
        _requireOwned(tokenId);
        lender = _pledges[tokenId].lender;
        if (lender == address(0)) revert NotPledged(tokenId);
        if (msg.sender != lender) revert NotLender(tokenId, msg.sender);
    }

    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721URIStorage, AccessControl)
        returns (bool)
    {
        return super.supportsInterface(interfaceId);
    }
}
