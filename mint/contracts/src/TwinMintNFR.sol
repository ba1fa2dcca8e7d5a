// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721URIStorage} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721URIStorage.sol";
import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title TwinMint non-fungible right (NFR), version 2
/// @notice One token per surveyed asset (a forest plot, a pipeline). The token carries its survey
/// history (model fingerprint, scan root, capture hash, land footprint, surveyor), a pledge
/// (collateral lock agreed by owner and lender) and the latest valuation.
///
/// Why each rule exists (see mint/contracts/README.md for the attacks each one closes):
/// - **One asset, one token.** A model fingerprint, a scan root (the Merkle root of the scan's
///   points) and a land cell (H3, resolution 12) can each belong to one token only. A second mint
///   of the same scan, of a rescan of the same land, or of an overlapping parcel is refused,
///   naming the token that holds it.
/// - **KYC hierarchy.** The authority (two-step, delayed admin transfer) appoints registrars;
///   a registrar admits clients with a category and an expiry and may revoke only whom it
///   admitted. Holding, transferring and pledging need unexpired KYC from a current registrar.
/// - **Attested surveys.** Mint and resurvey need an EIP-712 attestation by a `SURVEYOR_ROLE`
///   holder with a deadline; the surveyor can cancel an unused one. A resurvey names the
///   fingerprint it replaces and is submitted by the owner; while pledged, the lender consents.
/// - **Pledges are agreements.** The owner offers, the lender accepts; both need KYC; the lender
///   may seize only after the agreed `seizableAfter` and before the pledge's expiry.
/// - **Valuations move forward.** `asOf` strictly increases and never passes the block time.
contract TwinMintNFR is ERC721URIStorage, AccessControlDefaultAdminRules, EIP712 {
    /// KYC desks: admit and revoke clients. Appointed and removed by the authority.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// Registered surveyors whose EIP-712 attestations can mint and resurvey.
    bytes32 public constant SURVEYOR_ROLE = keccak256("SURVEYOR_ROLE");
    /// Valuation oracle: publishes asset values.
    bytes32 public constant VALUATION_ORACLE_ROLE = keccak256("VALUATION_ORACLE_ROLE");

    /// H3 resolution of footprint cells (mean hexagon 307 m², edge 10.8 m): fine enough that a
    /// 0.1 ha parcel holds whole cells, coarse enough that 100 ha is ~3,300 cells.
    uint8 public constant FOOTPRINT_RESOLUTION = 12;
    /// Cells per footprint batch: one batch (~23.5 k gas a cell, ~12 M gas) stays under the
    /// per-transaction gas cap of 2^24 = 16,777,216 (EIP-7825) with room for the mint itself.
    uint256 public constant FOOTPRINT_BATCH = 500;

    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(address to,bytes32 fingerprint,bytes32 scanRoot,bytes32 captureHash,bytes32 footprintRoot,uint32 cellCount,string uri,uint64 deadline)"
    );
    bytes32 public constant RESURVEY_TYPEHASH = keccak256(
        "Resurvey(uint256 tokenId,bytes32 previousFingerprint,bytes32 fingerprint,bytes32 scanRoot,bytes32 captureHash,bytes32 footprintRoot,uint32 cellCount,bytes32 driftHash,string uri,uint64 deadline)"
    );

    /// KYC client categories.
    uint8 public constant INSTITUTIONAL = 1;
    uint8 public constant ACCREDITED = 2;
    uint8 public constant RETAIL = 3;

    /// What a surveyor attests for a mint.
    struct MintClaim {
        address to;
        bytes32 fingerprint;
        bytes32 scanRoot;
        bytes32 captureHash;
        bytes32 footprintRoot;
        uint32 cellCount;
        string uri;
        uint64 deadline;
    }

    /// What a surveyor attests for a resurvey.
    struct ResurveyClaim {
        uint256 tokenId;
        bytes32 previousFingerprint;
        bytes32 fingerprint;
        bytes32 scanRoot;
        bytes32 captureHash;
        bytes32 footprintRoot;
        uint32 cellCount;
        /// SHA-256 of the resurvey's drift summary (measured vs projected; see `resurvey.json`).
        bytes32 driftHash;
        string uri;
        uint64 deadline;
    }

    /// One survey of the asset.
    struct Survey {
        bytes32 fingerprint;
        bytes32 scanRoot;
        bytes32 captureHash;
        bytes32 footprintRoot;
        uint32 cellCount;
        address surveyor;
        uint64 timestamp;
        /// The drift summary's hash for a resurvey; zero for the first survey.
        bytes32 driftHash;
    }

    /// The latest survey's footprint: claimed in batches of `FOOTPRINT_BATCH` cells.
    struct Footprint {
        bytes32 root;
        uint32 expected;
        uint32 claimed;
        uint64 lastCell;
    }

    /// A KYC admission. `registrar == address(0)`: none.
    struct Kyc {
        address registrar;
        uint8 category;
        uint64 expiry;
    }

    /// A pledge: offered by the owner, in force once the lender accepts.
    struct Pledge {
        address lender;
        address owner;
        bytes32 loanRef;
        uint64 since;
        uint64 seizableAfter;
        uint64 expiresAt;
        bool accepted;
    }

    /// Latest published value, in the smallest unit of `currency`.
    struct Valuation {
        uint256 value;
        bytes32 currency;
        uint64 asOf;
        address oracle;
    }

    error KycMissing(address account);
    error KycExpired(address account, uint64 expiry);
    error RegistrarRemoved(address account, address registrar);
    error AdmittedByOther(address client, address registrar);
    error InvalidCategory(uint8 category);
    error InvalidExpiry(uint64 expiry);
    error AlreadyMinted(bytes32 fingerprint, uint256 tokenId);
    error ScanAlreadyMinted(bytes32 scanRoot, uint256 tokenId);
    error ZeroFingerprint();
    error ZeroScanRoot();
    error EmptyFootprint();
    error InvalidCell(uint64 cell);
    error CellsNotAscending(uint64 previous, uint64 cell);
    error FootprintOverlap(uint64 cell, uint256 tokenId);
    error FootprintBatchMismatch(uint256 tokenId, uint256 batch);
    error FootprintBatchesMismatch(bytes32 footprintRoot);
    error FootprintComplete(uint256 tokenId);
    error FootprintIncomplete(uint256 tokenId, uint32 claimed, uint32 expected);
    error InvalidAttestation(address recovered);
    error AttestationExpired(uint64 deadline, uint256 now_);
    error AttestationCancelled(address surveyor, bytes32 digest);
    error NotSubmitter(address caller);
    error StaleResurvey(bytes32 current, bytes32 previousFingerprint);
    error ResurveyElsewhere(uint256 tokenId);
    error LenderConsentRequired(uint256 tokenId, address lender);
    error Pledged(uint256 tokenId, address lender);
    error NotPledged(uint256 tokenId);
    error NoPledgeOffer(uint256 tokenId);
    error PledgeOfferMismatch(uint256 tokenId, bytes32 loanRef);
    error NotLender(uint256 tokenId, address caller);
    error NotOwner(uint256 tokenId, address caller);
    error InvalidLender(address lender);
    error InvalidPledgeTerms(uint64 seizableAfter, uint64 expiresAt);
    error SeizeTooEarly(uint256 tokenId, uint64 seizableAfter);
    error PledgeExpired(uint256 tokenId, uint64 expiresAt);
    error ValuationInFuture(uint64 asOf, uint256 now_);
    error ValuationNotNewer(uint64 previous, uint64 asOf);

    event KycAdmitted(address indexed client, address indexed registrar, uint8 category, uint64 expiry);
    event KycRevoked(address indexed client, address indexed registrar, address by);
    event Minted(
        uint256 indexed tokenId,
        address indexed owner,
        bytes32 indexed fingerprint,
        bytes32 scanRoot,
        bytes32 captureHash,
        bytes32 footprintRoot,
        uint32 cellCount,
        address surveyor
    );
    event FootprintClaimed(uint256 indexed tokenId, address indexed owner, uint32 claimed, uint32 expected);
    event Resurveyed(
        uint256 indexed tokenId,
        address indexed owner,
        bytes32 indexed fingerprint,
        bytes32 previousFingerprint,
        bytes32 scanRoot,
        address surveyor,
        uint256 index
    );
    /// A resurvey's drift summary hash (measured vs projected), stored with its survey.
    event DriftRecorded(uint256 indexed tokenId, uint256 index, bytes32 driftHash);
    event AttestationCancelledBy(address indexed surveyor, bytes32 indexed digest);
    event ResurveyConsented(uint256 indexed tokenId, address indexed owner, address indexed lender, bytes32 fingerprint);
    event PledgeOffered(
        uint256 indexed tokenId,
        address indexed owner,
        address indexed lender,
        bytes32 loanRef,
        uint64 seizableAfter,
        uint64 expiresAt
    );
    event PledgeOfferCancelled(uint256 indexed tokenId, address indexed owner, address indexed lender);
    event TokenPledged(
        uint256 indexed tokenId,
        address indexed owner,
        address indexed lender,
        bytes32 loanRef,
        uint64 seizableAfter,
        uint64 expiresAt
    );
    event PledgeReleased(uint256 indexed tokenId, address indexed owner, address indexed lender);
    event TokenSeized(uint256 indexed tokenId, address indexed owner, address indexed lender);
    event ValuationSet(
        uint256 indexed tokenId, address indexed owner, uint256 value, bytes32 currency, uint64 asOf, address oracle
    );

    uint256 private _nextTokenId = 1; // 0 means "none" in the lookups below
    mapping(address account => Kyc) private _kyc;
    mapping(bytes32 fingerprint => uint256 tokenId) private _tokenOfFingerprint;
    mapping(bytes32 scanRoot => uint256 tokenId) private _tokenOfScan;
    mapping(uint64 cell => uint256 tokenId) private _tokenOfCell;
    mapping(uint256 tokenId => Survey[]) private _surveys;
    mapping(uint256 tokenId => Footprint) private _footprints;
    mapping(uint256 tokenId => bytes32[]) private _footprintBatches;
    mapping(uint256 tokenId => Pledge) private _pledges;
    mapping(uint256 tokenId => bytes32 fingerprint) private _resurveyConsent;
    mapping(uint256 tokenId => Valuation) private _valuations;
    mapping(address surveyor => mapping(bytes32 digest => bool)) private _cancelled;

    /// @param authority holds DEFAULT_ADMIN_ROLE (appoints registrars, surveyors and oracles);
    ///   zero is refused by OpenZeppelin's `AccessControlDefaultAdminRules`.
    /// @param adminDelay seconds between starting and accepting an authority transfer (or
    ///   renouncement), so a stolen or mistaken admin key cannot hand the registry over at once.
    constructor(address authority, uint48 adminDelay)
        ERC721("TwinMint NFR", "TMNFR")
        AccessControlDefaultAdminRules(adminDelay, authority)
        EIP712("TwinMint", "2")
    {}

    // ------------------------------------------------------------------ KYC

    /// A registrar admits (or renews) a client. A client admitted by another registrar whose
    /// admission is still valid cannot be taken over.
    function admit(address client, uint8 category, uint64 expiry) external onlyRole(REGISTRAR_ROLE) {
        if (category < INSTITUTIONAL || category > RETAIL) revert InvalidCategory(category);
        if (expiry <= block.timestamp) revert InvalidExpiry(expiry);
        if (client == address(0)) revert KycMissing(client);
        Kyc storage k = _kyc[client];
        if (
            k.registrar != address(0) && k.registrar != msg.sender && k.expiry > block.timestamp
                && hasRole(REGISTRAR_ROLE, k.registrar)
        ) revert AdmittedByOther(client, k.registrar);
        _kyc[client] = Kyc(msg.sender, category, expiry);
        emit KycAdmitted(client, msg.sender, category, expiry);
    }

    /// The registrar that admitted `client` (or the authority) revokes the admission.
    function revoke(address client) external {
        Kyc storage k = _kyc[client];
        address registrar = k.registrar;
        if (registrar == address(0)) revert KycMissing(client);
        if (msg.sender != registrar && msg.sender != defaultAdmin()) revert AdmittedByOther(client, registrar);
        delete _kyc[client];
        emit KycRevoked(client, registrar, msg.sender);
    }

    function kycOf(address account) external view returns (Kyc memory) {
        return _kyc[account];
    }

    /// Unexpired admission by a registrar that still holds the role.
    function hasKyc(address account) public view returns (bool) {
        Kyc storage k = _kyc[account];
        return k.registrar != address(0) && k.expiry > block.timestamp && hasRole(REGISTRAR_ROLE, k.registrar);
    }

    /// ERC-7943-style: may `account` hold and move tokens at all?
    function canTransact(address account) external view returns (bool) {
        return hasKyc(account);
    }

    // ------------------------------------------------------------------ mint and resurvey

    /// Mint a token for a surveyed asset to `c.to`, claiming the first batch of its footprint
    /// (`cells`, ascending) and recording the hash of every batch (`batchHashes`, whose packed
    /// keccak is the attested `footprintRoot`). Submitted by the recipient or the surveyor.
    function mint(MintClaim calldata c, bytes32[] calldata batchHashes, uint64[] calldata cells, bytes calldata signature)
        external
        returns (uint256 tokenId)
    {
        if (c.deadline < block.timestamp) revert AttestationExpired(c.deadline, block.timestamp);
        _requireFreshFingerprint(c.fingerprint);
        _requireFreshScan(c.scanRoot);
        address surveyor = _requireSurveyor(mintDigest(c), signature);
        if (msg.sender != c.to && msg.sender != surveyor) revert NotSubmitter(msg.sender);
        _requireKyc(c.to);

        tokenId = _nextTokenId++;
        _tokenOfFingerprint[c.fingerprint] = tokenId;
        _tokenOfScan[c.scanRoot] = tokenId;
        _surveys[tokenId].push(
            Survey(
                c.fingerprint,
                c.scanRoot,
                c.captureHash,
                c.footprintRoot,
                c.cellCount,
                surveyor,
                uint64(block.timestamp),
                bytes32(0)
            )
        );
        _startFootprint(tokenId, c.footprintRoot, c.cellCount, batchHashes);
        _mint(c.to, tokenId);
        _setTokenURI(tokenId, c.uri);
        emit Minted(
            tokenId, c.to, c.fingerprint, c.scanRoot, c.captureHash, c.footprintRoot, c.cellCount, surveyor
        );
        _claimCells(tokenId, c.to, cells);
    }

    /// Claim the next batch of a token's footprint. Anyone may submit: the batch must hash to
    /// the attested batch hash.
    function claimFootprint(uint256 tokenId, uint64[] calldata cells) external {
        address owner = _requireOwned(tokenId);
        _claimCells(tokenId, owner, cells);
    }

    /// Append a new survey of an existing token: its history grows, nothing is overwritten.
    /// Submitted by the owner; names the fingerprint it follows; while pledged, the lender must
    /// have consented to exactly this fingerprint.
    function resurvey(
        ResurveyClaim calldata c,
        bytes32[] calldata batchHashes,
        uint64[] calldata cells,
        bytes calldata signature
    ) external {
        address owner = _requireOwned(c.tokenId);
        if (msg.sender != owner) revert NotOwner(c.tokenId, msg.sender);
        if (c.deadline < block.timestamp) revert AttestationExpired(c.deadline, block.timestamp);
        Survey[] storage history_ = _surveys[c.tokenId];
        bytes32 current = history_[history_.length - 1].fingerprint;
        if (c.previousFingerprint != current) revert StaleResurvey(current, c.previousFingerprint);
        _requireFootprintComplete(c.tokenId);
        if (_isPledged(c.tokenId)) {
            if (_resurveyConsent[c.tokenId] != c.fingerprint) {
                revert LenderConsentRequired(c.tokenId, _pledges[c.tokenId].lender);
            }
        }
        delete _resurveyConsent[c.tokenId];
        _requireFreshFingerprint(c.fingerprint);
        _requireFreshScan(c.scanRoot);
        address surveyor = _requireSurveyor(resurveyDigest(c), signature);

        _tokenOfFingerprint[c.fingerprint] = c.tokenId;
        _tokenOfScan[c.scanRoot] = c.tokenId;
        history_.push(
            Survey(
                c.fingerprint,
                c.scanRoot,
                c.captureHash,
                c.footprintRoot,
                c.cellCount,
                surveyor,
                uint64(block.timestamp),
                c.driftHash
            )
        );
        _requireOverlap(c.tokenId, cells);
        _startFootprint(c.tokenId, c.footprintRoot, c.cellCount, batchHashes);
        _setTokenURI(c.tokenId, c.uri); // emits MetadataUpdate
        emit Resurveyed(
            c.tokenId,
            owner,
            c.fingerprint,
            c.previousFingerprint,
            c.scanRoot,
            surveyor,
            history_.length - 1
        );
        emit DriftRecorded(c.tokenId, history_.length - 1, c.driftHash);
        _claimCells(c.tokenId, owner, cells);
    }

    /// The lender of a pledged token agrees to a resurvey with exactly this fingerprint.
    function consentResurvey(uint256 tokenId, bytes32 fingerprint) external {
        address lender = _requireLender(tokenId);
        _resurveyConsent[tokenId] = fingerprint;
        emit ResurveyConsented(tokenId, _ownerOf(tokenId), lender, fingerprint);
    }

    /// A surveyor withdraws an attestation it signed and that was not used yet.
    function cancelAttestation(bytes32 digest) external {
        _cancelled[msg.sender][digest] = true;
        emit AttestationCancelledBy(msg.sender, digest);
    }

    function isAttestationCancelled(address surveyor, bytes32 digest) external view returns (bool) {
        return _cancelled[surveyor][digest];
    }

    /// The EIP-712 digest a surveyor signs to attest a mint.
    function mintDigest(MintClaim calldata c) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ATTESTATION_TYPEHASH,
                    c.to,
                    c.fingerprint,
                    c.scanRoot,
                    c.captureHash,
                    c.footprintRoot,
                    c.cellCount,
                    keccak256(bytes(c.uri)),
                    c.deadline
                )
            )
        );
    }

    /// The EIP-712 digest a surveyor signs to attest a resurvey.
    function resurveyDigest(ResurveyClaim calldata c) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    RESURVEY_TYPEHASH,
                    c.tokenId,
                    c.previousFingerprint,
                    c.fingerprint,
                    c.scanRoot,
                    c.captureHash,
                    c.footprintRoot,
                    c.cellCount,
                    c.driftHash,
                    keccak256(bytes(c.uri)),
                    c.deadline
                )
            )
        );
    }

    /// Token holding `fingerprint` (minted or appended by a resurvey), or 0 when none.
    function tokenOfFingerprint(bytes32 fingerprint) external view returns (uint256) {
        return _tokenOfFingerprint[fingerprint];
    }

    function isMinted(bytes32 fingerprint) external view returns (bool) {
        return _tokenOfFingerprint[fingerprint] != 0;
    }

    /// Token whose survey has this scan root, or 0.
    function tokenOfScan(bytes32 scanRoot) external view returns (uint256) {
        return _tokenOfScan[scanRoot];
    }

    /// Token holding this H3 cell, or 0.
    function tokenOfCell(uint64 cell) external view returns (uint256) {
        return _tokenOfCell[cell];
    }

    /// The latest survey's footprint claim: root, cells expected and claimed so far.
    function footprintOf(uint256 tokenId) external view returns (Footprint memory) {
        _requireOwned(tokenId);
        return _footprints[tokenId];
    }

    /// The attested hash of every batch of the latest footprint.
    function footprintBatches(uint256 tokenId) external view returns (bytes32[] memory) {
        _requireOwned(tokenId);
        return _footprintBatches[tokenId];
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

    /// Every survey of the token, oldest first.
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

    /// The owner offers the token as collateral to `lender` under `loanRef` (e.g. the hash of
    /// the loan agreement). Nothing is locked until the lender accepts.
    /// @param seizableAfter the lender may seize only from this time on (loan maturity).
    /// @param expiresAt the pledge lapses at this time (0: until released or seized).
    function offerPledge(uint256 tokenId, address lender, bytes32 loanRef, uint64 seizableAfter, uint64 expiresAt)
        external
    {
        address owner = _requireOwned(tokenId);
        if (msg.sender != owner) revert NotOwner(tokenId, msg.sender);
        if (_isPledged(tokenId)) revert Pledged(tokenId, _pledges[tokenId].lender);
        if (lender == address(0) || lender == owner) revert InvalidLender(lender);
        _requireKyc(owner);
        _requireKyc(lender);
        _requireFootprintComplete(tokenId);
        if (seizableAfter <= block.timestamp || (expiresAt != 0 && expiresAt <= seizableAfter)) {
            revert InvalidPledgeTerms(seizableAfter, expiresAt);
        }
        _pledges[tokenId] = Pledge(lender, owner, loanRef, 0, seizableAfter, expiresAt, false);
        emit PledgeOffered(tokenId, owner, lender, loanRef, seizableAfter, expiresAt);
    }

    /// The owner points the token at a new version of its package (a reader's key added to a
    /// sealed package, a rebuilt report): the fingerprint stays, the URI changes. Refused while
    /// pledged, so the package a lender accepted cannot be swapped under them.
    function updateTokenURI(uint256 tokenId, string calldata uri) external {
        address owner = _requireOwned(tokenId);
        if (msg.sender != owner) revert NotOwner(tokenId, msg.sender);
        if (_isPledged(tokenId)) revert Pledged(tokenId, _pledges[tokenId].lender);
        _setTokenURI(tokenId, uri); // emits MetadataUpdate (ERC-4906)
    }

    /// The owner withdraws an offer the lender has not accepted.
    function cancelPledgeOffer(uint256 tokenId) external {
        address owner = _requireOwned(tokenId);
        if (msg.sender != owner) revert NotOwner(tokenId, msg.sender);
        Pledge storage p = _pledges[tokenId];
        if (p.lender == address(0) || p.accepted) revert NoPledgeOffer(tokenId);
        address lender = p.lender;
        delete _pledges[tokenId];
        emit PledgeOfferCancelled(tokenId, owner, lender);
    }

    /// The lender accepts the offer; `loanRef` must be the offered one. From now on the token
    /// cannot move until released, seized or expired.
    function acceptPledge(uint256 tokenId, bytes32 loanRef) external {
        address owner = _requireOwned(tokenId);
        Pledge storage p = _pledges[tokenId];
        if (p.lender == address(0) || p.accepted || p.owner != owner) revert NoPledgeOffer(tokenId);
        if (msg.sender != p.lender) revert NotLender(tokenId, msg.sender);
        if (p.loanRef != loanRef) revert PledgeOfferMismatch(tokenId, loanRef);
        if (p.seizableAfter <= block.timestamp) revert InvalidPledgeTerms(p.seizableAfter, p.expiresAt);
        _requireKyc(owner);
        _requireKyc(msg.sender);
        p.accepted = true;
        p.since = uint64(block.timestamp);
        emit TokenPledged(tokenId, owner, msg.sender, loanRef, p.seizableAfter, p.expiresAt);
        emit MetadataUpdate(tokenId);
    }

    /// The lender lifts the lock (loan repaid), or the owner does once the pledge has expired.
    function release(uint256 tokenId) external {
        address owner = _requireOwned(tokenId);
        Pledge storage p = _pledges[tokenId];
        if (p.lender == address(0) || !p.accepted) revert NotPledged(tokenId);
        address lender = p.lender;
        bool expired = p.expiresAt != 0 && block.timestamp > p.expiresAt;
        if (msg.sender != lender && !(expired && msg.sender == owner)) revert NotLender(tokenId, msg.sender);
        delete _pledges[tokenId];
        delete _resurveyConsent[tokenId];
        emit PledgeReleased(tokenId, owner, lender);
        emit MetadataUpdate(tokenId);
    }

    /// The lender takes the token on default, after the agreed `seizableAfter` and before the
    /// pledge expires. The lender needs valid KYC; the owner need not (a lapsed KYC must not
    /// block enforcement — but a holder without KYC could never have pledged).
    function seize(uint256 tokenId) external {
        address lender = _requireLender(tokenId);
        Pledge storage p = _pledges[tokenId];
        if (block.timestamp < p.seizableAfter) revert SeizeTooEarly(tokenId, p.seizableAfter);
        _requireKyc(lender);
        address from = _ownerOf(tokenId);
        delete _pledges[tokenId];
        delete _resurveyConsent[tokenId];
        // Bypass this contract's _update override (it checks the owner's KYC and the pledge);
        // the lender's KYC was checked above.
        ERC721._update(lender, tokenId, address(0));
        emit TokenSeized(tokenId, from, lender);
        emit MetadataUpdate(tokenId);
    }

    function pledgeOf(uint256 tokenId) external view returns (Pledge memory) {
        _requireOwned(tokenId);
        return _pledges[tokenId];
    }

    /// True while an accepted pledge is in force (not released, seized or expired).
    function isPledged(uint256 tokenId) external view returns (bool) {
        return _isPledged(tokenId);
    }

    function resurveyConsentOf(uint256 tokenId) external view returns (bytes32) {
        return _resurveyConsent[tokenId];
    }

    /// ERC-7943-style transfer pre-check: true when `transferFrom(from, to, tokenId)` by an
    /// authorised caller would pass the KYC and pledge rules.
    function canTransfer(address from, address to, uint256 tokenId) external view returns (bool) {
        return _ownerOf(tokenId) == from && from != address(0) && hasKyc(from) && hasKyc(to) && !_isPledged(tokenId);
    }

    // ------------------------------------------------------------------ valuation

    /// Publish a value. `asOf` moves strictly forward and never past the block time, so an old
    /// appraisal cannot overwrite a newer one and no value is dated in the future.
    function setValuation(uint256 tokenId, uint256 value, bytes32 currency, uint64 asOf)
        external
        onlyRole(VALUATION_ORACLE_ROLE)
    {
        address owner = _requireOwned(tokenId);
        if (asOf > block.timestamp) revert ValuationInFuture(asOf, block.timestamp);
        uint64 previous = _valuations[tokenId].asOf;
        if (asOf <= previous) revert ValuationNotNewer(previous, asOf);
        _valuations[tokenId] = Valuation(value, currency, asOf, msg.sender);
        emit ValuationSet(tokenId, owner, value, currency, asOf, msg.sender);
        emit MetadataUpdate(tokenId);
    }

    function valuationOf(uint256 tokenId) external view returns (Valuation memory) {
        _requireOwned(tokenId);
        return _valuations[tokenId];
    }

    // ------------------------------------------------------------------ internals

    /// Every mint and transfer passes here: both sides need valid KYC, and a pledged token
    /// cannot move. A transfer drops a pending (unaccepted) pledge offer. `seize` bypasses this.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address) {
        address from = _ownerOf(tokenId);
        if (to != address(0)) _requireKyc(to);
        if (from != address(0)) {
            if (_isPledged(tokenId)) revert Pledged(tokenId, _pledges[tokenId].lender);
            _requireKyc(from);
            if (_pledges[tokenId].lender != address(0)) delete _pledges[tokenId];
        }
        return super._update(to, tokenId, auth);
    }

    function _isPledged(uint256 tokenId) private view returns (bool) {
        Pledge storage p = _pledges[tokenId];
        return p.accepted && (p.expiresAt == 0 || block.timestamp <= p.expiresAt);
    }

    function _requireKyc(address account) private view {
        Kyc storage k = _kyc[account];
        if (k.registrar == address(0)) revert KycMissing(account);
        if (!hasRole(REGISTRAR_ROLE, k.registrar)) revert RegistrarRemoved(account, k.registrar);
        if (k.expiry <= block.timestamp) revert KycExpired(account, k.expiry);
    }

    function _requireFreshFingerprint(bytes32 fingerprint) private view {
        if (fingerprint == bytes32(0)) revert ZeroFingerprint();
        uint256 existing = _tokenOfFingerprint[fingerprint];
        if (existing != 0) revert AlreadyMinted(fingerprint, existing);
    }

    function _requireFreshScan(bytes32 scanRoot) private view {
        if (scanRoot == bytes32(0)) revert ZeroScanRoot();
        uint256 existing = _tokenOfScan[scanRoot];
        if (existing != 0) revert ScanAlreadyMinted(scanRoot, existing);
    }

    function _requireSurveyor(bytes32 digest, bytes calldata signature) private view returns (address) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err != ECDSA.RecoverError.NoError || !hasRole(SURVEYOR_ROLE, recovered)) {
            revert InvalidAttestation(recovered);
        }
        if (_cancelled[recovered][digest]) revert AttestationCancelled(recovered, digest);
        return recovered;
    }

    function _requireLender(uint256 tokenId) private view returns (address lender) {
        _requireOwned(tokenId);
        Pledge storage p = _pledges[tokenId];
        lender = p.lender;
        if (lender == address(0) || !p.accepted) revert NotPledged(tokenId);
        if (p.expiresAt != 0 && block.timestamp > p.expiresAt) revert PledgeExpired(tokenId, p.expiresAt);
        if (msg.sender != lender) revert NotLender(tokenId, msg.sender);
    }

    function _requireFootprintComplete(uint256 tokenId) private view {
        Footprint storage f = _footprints[tokenId];
        if (f.claimed != f.expected) revert FootprintIncomplete(tokenId, f.claimed, f.expected);
    }

    /// A resurvey must look at the same land: its first batch of cells (sent with the resurvey)
    /// must share at least one cell with the token's earlier footprint.
    function _requireOverlap(uint256 tokenId, uint64[] calldata cells) private view {
        for (uint256 i = 0; i < cells.length; i++) {
            if (_tokenOfCell[cells[i]] == tokenId) return;
        }
        revert ResurveyElsewhere(tokenId);
    }

    /// Start claiming a survey's footprint: `batchHashes` must pack to the attested root and
    /// number ceil(cellCount / FOOTPRINT_BATCH).
    function _startFootprint(uint256 tokenId, bytes32 root, uint32 cellCount, bytes32[] calldata batchHashes)
        private
    {
        if (cellCount == 0) revert EmptyFootprint();
        uint256 batches = (uint256(cellCount) + FOOTPRINT_BATCH - 1) / FOOTPRINT_BATCH;
        if (batchHashes.length != batches || keccak256(abi.encodePacked(batchHashes)) != root) {
            revert FootprintBatchesMismatch(root);
        }
        _footprints[tokenId] = Footprint(root, cellCount, 0, 0);
        _footprintBatches[tokenId] = batchHashes;
    }

    /// Claim the next batch: it must hash to the attested batch hash, ascend, be valid H3 cells
    /// at FOOTPRINT_RESOLUTION, and overlap no other token's cells. Cells this token already
    /// holds (from an earlier survey) are kept.
    function _claimCells(uint256 tokenId, address owner, uint64[] calldata cells) private {
        Footprint storage f = _footprints[tokenId];
        uint32 claimed = f.claimed;
        uint32 expected = f.expected;
        if (claimed == expected) revert FootprintComplete(tokenId);
        uint256 batch = claimed / FOOTPRINT_BATCH;
        uint256 want = expected - claimed < FOOTPRINT_BATCH ? expected - claimed : FOOTPRINT_BATCH;
        if (cells.length != want || keccak256(abi.encodePacked(cells)) != _footprintBatches[tokenId][batch]) {
            revert FootprintBatchMismatch(tokenId, batch);
        }
        uint64 last = claimed == 0 ? 0 : f.lastCell;
        for (uint256 i = 0; i < cells.length; i++) {
            uint64 cell = cells[i];
            if (cell <= last) revert CellsNotAscending(last, cell);
            if (
                (cell >> 63) != 0 || ((cell >> 59) & 0xF) != 1 || ((cell >> 56) & 0x7) != 0
                    || ((cell >> 52) & 0xF) != FOOTPRINT_RESOLUTION || (cell & 0x1FF) != 0x1FF
            ) revert InvalidCell(cell);
            uint256 holder = _tokenOfCell[cell];
            if (holder == 0) {
                _tokenOfCell[cell] = tokenId;
            } else if (holder != tokenId) {
                revert FootprintOverlap(cell, holder);
            }
            last = cell;
        }
        claimed += uint32(cells.length);
        f.claimed = claimed;
        f.lastCell = last;
        emit FootprintClaimed(tokenId, owner, claimed, expected);
    }

    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721URIStorage, AccessControlDefaultAdminRules)
        returns (bool)
    {
        return super.supportsInterface(interfaceId);
    }
}
