// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title FedMarket settlement: job escrow, provider/verifier bonds, slashing, per-round Merkle payouts.
/// @notice One ERC-20 (`token`) for escrow and bonds. A builder escrows a job's budget; the coordinator
/// posts one `(modelHash, payoutRoot)` per round, where the root commits to each address's
/// CUMULATIVE payout; an address claims the difference since its last claim with one Merkle proof,
/// whatever the number of rounds. A claim books the difference to the address in one storage slot
/// (per job and address) and `withdraw` sends what was booked, over any number of jobs, in one ERC-20
/// transfer: a claim never touches the token, so it stays under 75k gas whatever the proof depth and
/// whether or not the address ever held the token or bonded. Slashed stake goes `compensationBps` to the harmed job's escrow
/// (refundable to its builder) and the rest to `treasury`.
contract Marketplace is AccessControl, ReentrancyGuardTransient, EIP712 {
    using SafeERC20 for IERC20;

    bytes32 public constant COORDINATOR_ROLE = keccak256("COORDINATOR_ROLE");
    bytes32 public constant VERIFIER_ROLE = keccak256("VERIFIER_ROLE");
    /// @notice EIP-712 type of a worker's signed submission (off-chain verification, slash evidence).
    bytes32 public constant SUBMISSION_TYPEHASH =
        keccak256("Submission(bytes32 task,bytes32 updateHash,bytes32 proofRoot,uint64 steps,uint64 gpuSeconds)");
    uint16 public constant MAX_BPS = 10_000;

    enum JobStatus {
        None,
        Open,
        Finished,
        Closed
    }

    /// Packed into 4 slots so that the hot paths touch few of them: postRound reads/writes slots 1-3,
    /// claim only reads slot 3. What a job has paid out is not stored (claim stays under 75k gas):
    /// it is the sum of its Claimed events, and escrow held = deposited - refunded - paid. The token
    /// balance of the contract = held escrow + claimed-but-unwithdrawn amounts + totalBonded.
    struct Job {
        address builder; // slot 0
        uint96 refunded;
        uint128 deposited; // slot 1: all budget ever put in, slashing compensation included
        uint128 committed; //         total cumulative payouts promised by the latest root
        uint40 deadline; // slot 2
        uint32 lastRound;
        JobStatus status;
        bytes32 payoutRoot; // slot 3
    }

    /// One slot per (job, address), written once per claim: the cumulative amount claimed so far and
    /// the part of it not yet withdrawn. Both are below MAX_JOB_AMOUNT (cumulative <= deposited).
    struct Claim {
        uint128 claimed;
        uint128 unwithdrawn;
    }

    struct Bond {
        uint128 bonded;
        uint128 unbonding;
        uint64 unlockAt;
    }

    struct Submission {
        bytes32 task;
        bytes32 updateHash;
        bytes32 proofRoot;
        uint64 steps;
        uint64 gpuSeconds;
    }

    IERC20 public immutable token;
    address public treasury;
    uint64 public unbondingDelay;
    uint16 public compensationBps;

    mapping(bytes32 jobId => Job) private _jobs;
    mapping(bytes32 jobId => mapping(address account => Claim)) private _claims;
    mapping(address account => Bond) private _bonds;
    /// All stake (bonded + unbonding); with the jobs' held escrow it makes up the token balance.
    uint256 public totalBonded;
    /// Cap on a job's deposits (2^96-1 base units, ~7.9e10 tokens of 18 decimals) so refunds pack in slot 0.
    uint256 public constant MAX_JOB_AMOUNT = type(uint96).max;

    error ZeroAmount();
    error ZeroAddress();
    error JobExists(bytes32 jobId);
    error UnknownJob(bytes32 jobId);
    error JobNotOpen(bytes32 jobId, JobStatus status);
    error NotBuilder(bytes32 jobId, address caller);
    error DeadlineInPast(uint256 deadline, uint256 nowTs);
    error DeadlinePassed(bytes32 jobId, uint256 deadline);
    error RoundAlreadyPosted(bytes32 jobId, uint32 round);
    error RoundOutOfOrder(bytes32 jobId, uint32 expected, uint32 got);
    error PayoutsDecrease(bytes32 jobId, uint256 committed, uint256 newTotal);
    error PayoutsExceedEscrow(bytes32 jobId, uint256 deposited, uint256 newTotal);
    error NotRefundable(bytes32 jobId, JobStatus status, uint256 deadline);
    error NoRoundPosted(bytes32 jobId);
    error InvalidProof(bytes32 jobId, address account, uint256 cumulative);
    error NothingToClaim(bytes32 jobId, address account, uint256 alreadyClaimed);
    error InsufficientBond(address account, uint256 bonded, uint256 requested);
    error SlashExceedsBond(address account, uint256 slashable, uint256 requested);
    error StillUnbonding(address account, uint256 unlockAt);
    error NothingUnbonding(address account);
    error BpsTooHigh(uint256 bps);
    error AmountTooLarge(uint256 amount);
    error NothingToWithdraw(address account);

    event JobOpened(bytes32 indexed jobId, address indexed builder, uint256 amount, uint256 deadline);
    event Deposited(bytes32 indexed jobId, address indexed from, uint256 amount);
    event RoundPosted(
        bytes32 indexed jobId, uint32 indexed round, bytes32 modelHash, bytes32 payoutRoot, uint256 totalCumulative
    );
    event JobFinished(bytes32 indexed jobId, uint32 lastRound);
    event Refunded(bytes32 indexed jobId, address indexed builder, uint256 amount);
    event Claimed(bytes32 indexed jobId, address indexed account, uint256 amount, uint256 cumulative);
    event Withdrawn(bytes32 indexed jobId, address indexed account, uint256 amount);
    event Bonded(address indexed account, uint256 amount, uint256 totalBonded);
    event UnbondRequested(address indexed account, uint256 amount, uint256 unlockAt);
    event Unbonded(address indexed account, uint256 amount);
    event Slashed(
        address indexed account,
        bytes32 indexed jobId,
        bytes32 evidenceHash,
        uint256 amount,
        uint256 toEscrow,
        uint256 toTreasury
    );
    event TreasuryChanged(address treasury);
    event UnbondingDelayChanged(uint64 delay);
    event CompensationChanged(uint16 bps);

    constructor(IERC20 token_, address admin, address treasury_, uint64 unbondingDelay_, uint16 compensationBps_)
        EIP712("FedMarket", "1")
    {
        if (address(token_) == address(0) || admin == address(0) || treasury_ == address(0)) revert ZeroAddress();
        if (compensationBps_ > MAX_BPS) revert BpsTooHigh(compensationBps_);
        token = token_;
        treasury = treasury_;
        unbondingDelay = unbondingDelay_;
        compensationBps = compensationBps_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        emit TreasuryChanged(treasury_);
        emit UnbondingDelayChanged(unbondingDelay_);
        emit CompensationChanged(compensationBps_);
    }

    // ------------------------------------------------------------------ escrow

    /// @notice Opens a job and escrows its budget; `msg.sender` becomes its builder.
    function openJob(bytes32 jobId, uint256 amount, uint256 deadline) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (amount > MAX_JOB_AMOUNT) revert AmountTooLarge(amount);
        if (deadline <= block.timestamp || deadline > type(uint40).max) revert DeadlineInPast(deadline, block.timestamp);
        Job storage job = _jobs[jobId];
        if (job.status != JobStatus.None) revert JobExists(jobId);
        job.builder = msg.sender;
        job.deadline = uint40(deadline);
        job.status = JobStatus.Open;
        job.deposited = uint128(amount);
        emit JobOpened(jobId, msg.sender, amount, deadline);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Adds budget to an open job (its builder only: refunds go to the builder).
    function deposit(bytes32 jobId, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Job storage job = _jobs[jobId];
        if (job.status != JobStatus.Open) revert JobNotOpen(jobId, job.status);
        if (msg.sender != job.builder) revert NotBuilder(jobId, msg.sender);
        uint256 total = uint256(job.deposited) + amount;
        if (total > MAX_JOB_AMOUNT) revert AmountTooLarge(total);
        job.deposited = uint128(total);
        emit Deposited(jobId, msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Posts a round: its model hash (provenance) and the root of cumulative payouts.
    /// @param totalCumulative the sum of all cumulative payouts in the tree: never decreases and never
    /// exceeds the escrow, so every proof the root admits can be paid.
    function postRound(bytes32 jobId, uint32 round, bytes32 modelHash, bytes32 payoutRoot, uint256 totalCumulative)
        external
        onlyRole(COORDINATOR_ROLE)
    {
        Job storage job = _jobs[jobId];
        if (job.status != JobStatus.Open) revert JobNotOpen(jobId, job.status);
        uint32 last = job.lastRound;
        if (round <= last) revert RoundAlreadyPosted(jobId, round);
        if (round != last + 1) revert RoundOutOfOrder(jobId, last + 1, round);
        if (block.timestamp > job.deadline) revert DeadlinePassed(jobId, job.deadline);
        uint128 committed = job.committed;
        if (totalCumulative < committed) revert PayoutsDecrease(jobId, committed, totalCumulative);
        if (totalCumulative > job.deposited) revert PayoutsExceedEscrow(jobId, job.deposited, totalCumulative);
        job.lastRound = round;
        job.committed = uint128(totalCumulative);
        job.payoutRoot = payoutRoot;
        emit RoundPosted(jobId, round, modelHash, payoutRoot, totalCumulative);
    }

    /// @notice Ends a job: no more rounds; the builder may then refund what no round committed.
    function finishJob(bytes32 jobId) external onlyRole(COORDINATOR_ROLE) {
        Job storage job = _jobs[jobId];
        if (job.status != JobStatus.Open) revert JobNotOpen(jobId, job.status);
        job.status = JobStatus.Finished;
        emit JobFinished(jobId, job.lastRound);
    }

    /// @notice Returns the uncommitted budget to the builder once the job is finished or past its deadline.
    /// Committed payouts stay claimable.
    function refund(bytes32 jobId) external nonReentrant {
        Job storage job = _jobs[jobId];
        JobStatus status = job.status;
        if (status == JobStatus.None) revert UnknownJob(jobId);
        if (msg.sender != job.builder) revert NotBuilder(jobId, msg.sender);
        bool ended = status == JobStatus.Finished || (status == JobStatus.Open && block.timestamp > job.deadline);
        if (!ended) revert NotRefundable(jobId, status, job.deadline);
        uint256 amount = uint256(job.deposited) - job.committed - job.refunded;
        job.status = JobStatus.Closed;
        job.refunded += uint96(amount);
        emit Refunded(jobId, msg.sender, amount);
        if (amount > 0) token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ claims

    /// @notice Books to `account` its cumulative payout minus what it already claimed, proven against the
    /// latest round's root; `withdraw` pays it out. Anyone may submit (the money only ever goes to
    /// `account`), so a coordinator can relay claims. No external call, hence no reentrancy guard.
    function claim(bytes32 jobId, address account, uint256 cumulative, bytes32[] calldata proof) external {
        Job storage job = _jobs[jobId];
        bytes32 root = job.payoutRoot;
        if (root == bytes32(0)) revert NoRoundPosted(jobId);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, cumulative))));
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert InvalidProof(jobId, account, cumulative);
        Claim memory c = _claims[jobId][account];
        uint256 already = c.claimed;
        if (cumulative <= already) revert NothingToClaim(jobId, account, already);
        uint256 amount = cumulative - already;
        // cumulative <= committed <= deposited <= MAX_JOB_AMOUNT (postRound checked), so the escrow always
        // covers it and both fields fit; one SSTORE
        _claims[jobId][account] = Claim(uint128(cumulative), uint128(c.unwithdrawn + amount));
        emit Claimed(jobId, account, amount, cumulative);
    }

    /// @notice Pays the caller, in one transfer, everything it claimed and has not withdrawn in `jobIds`
    /// (a job listed twice, or with nothing booked, adds nothing).
    function withdraw(bytes32[] calldata jobIds) external nonReentrant {
        uint256 total;
        for (uint256 i = 0; i < jobIds.length; i++) {
            Claim storage c = _claims[jobIds[i]][msg.sender];
            uint256 amount = c.unwithdrawn;
            if (amount == 0) continue;
            c.unwithdrawn = 0;
            total += amount;
            emit Withdrawn(jobIds[i], msg.sender, amount);
        }
        if (total == 0) revert NothingToWithdraw(msg.sender);
        token.safeTransfer(msg.sender, total);
    }

    // ------------------------------------------------------------------ bonds

    function bond(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Bond storage b = _bonds[msg.sender];
        uint256 total = uint256(b.bonded) + amount;
        if (total + b.unbonding > type(uint128).max) revert AmountTooLarge(total);
        b.bonded = uint128(total);
        totalBonded += amount;
        emit Bonded(msg.sender, amount, total);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Starts the unbonding delay for `amount`; unbonding stake stays slashable until withdrawn.
    /// A further request adds to the unbonding amount and restarts the delay.
    function requestUnbond(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Bond storage b = _bonds[msg.sender];
        if (amount > b.bonded) revert InsufficientBond(msg.sender, b.bonded, amount);
        b.bonded -= uint128(amount);
        b.unbonding += uint128(amount);
        uint64 unlockAt = uint64(block.timestamp) + unbondingDelay;
        b.unlockAt = unlockAt;
        emit UnbondRequested(msg.sender, amount, unlockAt);
    }

    function withdrawUnbonded() external nonReentrant {
        Bond storage b = _bonds[msg.sender];
        uint256 amount = b.unbonding;
        if (amount == 0) revert NothingUnbonding(msg.sender);
        if (block.timestamp < b.unlockAt) revert StillUnbonding(msg.sender, b.unlockAt);
        b.unbonding = 0;
        totalBonded -= amount;
        emit Unbonded(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @notice Slashes bonded (then unbonding) stake of `account` for fraud proven by `evidenceHash`
    /// (e.g. the hash of the failed verification record). `compensationBps` of it goes to the escrow of
    /// `jobId` when that job is still open or finished (its builder gets it back by refund); the rest,
    /// or all of it when `jobId` is zero or closed, goes to `treasury`.
    function slash(address account, uint256 amount, bytes32 jobId, bytes32 evidenceHash)
        external
        nonReentrant
        onlyRole(VERIFIER_ROLE)
    {
        if (amount == 0) revert ZeroAmount();
        Bond storage b = _bonds[account];
        uint256 slashable = uint256(b.bonded) + b.unbonding;
        if (amount > slashable) revert SlashExceedsBond(account, slashable, amount);
        if (amount <= b.bonded) {
            b.bonded -= uint128(amount);
        } else {
            b.unbonding -= uint128(amount - b.bonded);
            b.bonded = 0;
        }
        totalBonded -= amount;

        uint256 toEscrow;
        Job storage job = _jobs[jobId];
        if (jobId != bytes32(0) && (job.status == JobStatus.Open || job.status == JobStatus.Finished)) {
            toEscrow = amount * compensationBps / MAX_BPS;
            // keep the job under MAX_JOB_AMOUNT: any excess goes to the treasury instead
            uint256 room = MAX_JOB_AMOUNT - job.deposited;
            if (toEscrow > room) toEscrow = room;
            job.deposited += uint128(toEscrow);
        }
        uint256 toTreasury = amount - toEscrow;
        emit Slashed(account, jobId, evidenceHash, amount, toEscrow, toTreasury);
        if (toTreasury > 0) token.safeTransfer(treasury, toTreasury);
    }

    // ------------------------------------------------------------------ admin

    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (treasury_ == address(0)) revert ZeroAddress();
        treasury = treasury_;
        emit TreasuryChanged(treasury_);
    }

    function setUnbondingDelay(uint64 delay) external onlyRole(DEFAULT_ADMIN_ROLE) {
        unbondingDelay = delay;
        emit UnbondingDelayChanged(delay);
    }

    function setCompensationBps(uint16 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (bps > MAX_BPS) revert BpsTooHigh(bps);
        compensationBps = bps;
        emit CompensationChanged(bps);
    }

    // ------------------------------------------------------------------ views

    function getJob(bytes32 jobId) external view returns (Job memory) {
        return _jobs[jobId];
    }

    /// @notice The cumulative amount `account` has claimed in `jobId`.
    function claimed(bytes32 jobId, address account) external view returns (uint256) {
        return _claims[jobId][account].claimed;
    }

    /// @notice What `account` has claimed in `jobId` and not yet withdrawn.
    function unwithdrawn(bytes32 jobId, address account) external view returns (uint256) {
        return _claims[jobId][account].unwithdrawn;
    }

    function bondOf(address account) external view returns (Bond memory) {
        return _bonds[account];
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice The EIP-712 digest a worker signs for its submission.
    function submissionDigest(Submission calldata s) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(SUBMISSION_TYPEHASH, s.task, s.updateHash, s.proofRoot, s.steps, s.gpuSeconds))
        );
    }

    /// @notice The address that signed `s` (reverts on a malformed signature).
    function submissionSigner(Submission calldata s, bytes calldata signature) external view returns (address) {
        return ECDSA.recover(submissionDigest(s), signature);
    }
}
