// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Fixture} from "./Fixture.sol";
import {TestBase} from "./Vm.sol";
import {Marketplace} from "../src/main/solidity/Marketplace.sol";
import {TestToken} from "../src/main/solidity/TestToken.sol";

/// Random sequences of marketplace actions by builders, providers, the coordinator, the verifier, the admin
/// and callers without a role. Ghost variables record what the contract must have done, computed from the
/// documented rules and never read back from the contract: each job's status, builder, deadline, last
/// round, committed total, deposits and compensation, refund and payouts; per-provider bonded and
/// unbonding stake and its unlock time; what left for the treasury. The handler decides from this model
/// alone whether a call must succeed or must fail, and makes every call through try/catch (with
/// fail_on_revert = false a bare call that wrongly reverted would just be dropped): "broken" records a
/// call that succeeded when it must not (double claim, claim beyond the root, slash or unbond beyond the
/// bond, early withdrawal, a refund that is not due, a privileged call by the wrong role), and
/// "unexpectedRevert" (with the call and its revert data) one that reverted although the model says it
/// is valid. The actions are biased towards useful targets (an open job for a round, a provider with
/// something to claim, a claim followed by its withdrawal, a provider whose stake is unbonding, a job
/// due for a refund), so that short sequences reach the deep states: post, claim, withdraw; bond,
/// unbond, wait, withdraw; finish or pass the deadline, refund.
contract Handler is TestBase {
    Marketplace internal market;
    TestToken internal token;
    address internal coordinator;
    address internal verifier;
    address internal admin;
    address internal treasury;
    bytes32 internal immutable coordRole;
    bytes32 internal immutable verifRole;
    uint256 internal constant MAX_JOB = type(uint96).max; // Marketplace.MAX_JOB_AMOUNT, as documented
    /// the deployment's parameters as the fixture set them, then as the admin action set them (never read from the contract)
    uint256 internal delay;
    uint256 internal compensationBps;
    address[3] internal builders = [address(0xB1), address(0xB2), address(0xB3)];
    address[4] internal providers = [address(0x1001), address(0x1002), address(0x1003), address(0x1004)];
    /// jobs 0-2 are opened at setup so that short call sequences reach rounds, claims and refunds; job 3 by an action
    bytes32[4] public jobIds = [keccak256("j0"), keccak256("j1"), keccak256("j2"), keccak256("j3")];

    // per job (index 0-3): the job as the model has it
    Marketplace.JobStatus[4] internal gStatus;
    address[4] internal gBuilder;
    uint256[4] internal gDeadline;
    uint256[4] internal gLastRound;
    /// the latest posted root's total (= the sum of `latest` over the providers)
    uint256[4] internal gCommitted;
    uint256[4] internal gRefunded;
    // per job: latest posted cumulative per provider, what the contract must hold, and paid
    uint256[4][4] internal latest;
    uint256[4] internal ghostDeposited;
    uint256[4] internal ghostPaid;
    /// per job and provider: the cumulative amount the handler's successful claims booked
    uint256[4][4] internal ghostClaimed;
    /// per job and provider: what withdraw sent to the provider's wallet (so ghostClaimed - ghostPaidOut is booked, unpaid)
    uint256[4][4] internal ghostPaidOut;
    // per provider: stake as the documented rules move it
    uint256[4] internal ghostBonded;
    uint256[4] internal ghostUnbonding;
    /// when the provider's unbonding stake may be withdrawn: block.timestamp + delay at its latest
    /// successful requestUnbond ("a further request adds to the unbonding amount and restarts the delay")
    uint256[4] internal expectedUnlockAt;
    uint256 internal ghostBondedIn;
    uint256 internal ghostSlashed;
    uint256 internal ghostWithdrawn;
    /// the slashes' treasury shares
    uint256 internal ghostToTreasury;
    bool internal broken;
    string internal brokenWhy;
    bool internal unexpectedRevert;
    string internal unexpectedRevertWhy;
    uint256 public calls;

    /// Everything the invariant compares with the contract, in one call (each external call costs the
    /// campaign time: one view instead of ~150 getters lets it check after every call).
    struct Ghosts {
        uint256[4] status;
        address[4] builder;
        uint256[4] deadline;
        uint256[4] lastRound;
        uint256[4] committed;
        uint256[4] refunded;
        uint256[4] deposited;
        uint256[4] paid;
        uint256[4][4] latest;
        uint256[4][4] claimed;
        uint256[4][4] paidOut;
        uint256[4] bonded;
        uint256[4] unbonding;
        uint256 bondedIn;
        uint256 slashed;
        uint256 withdrawn;
        uint256 toTreasury;
        /// the marketplace's token balance by the model alone: everything that came in (budgets, top-ups,
        /// bonds) less everything that left (refunds, withdrawals of claims and of unbonded stake, the
        /// treasury's shares of slashes); compensation only moves stake into an escrow
        uint256 expectedBalance;
        bool broken;
        string brokenWhy;
        bool unexpectedRevert;
        string unexpectedRevertWhy;
    }

    constructor(
        Marketplace m,
        TestToken t,
        address coord,
        address verif,
        address admin_,
        address treasury_,
        uint256 delay_,
        uint256 compensationBps_
    ) {
        market = m;
        token = t;
        coordinator = coord;
        verifier = verif;
        admin = admin_;
        treasury = treasury_;
        coordRole = keccak256("COORDINATOR_ROLE");
        verifRole = keccak256("VERIFIER_ROLE");
        delay = delay_;
        compensationBps = compensationBps_;
        for (uint256 i = 0; i < 3; i++) {
            _fund(builders[i]);
        }
        for (uint256 i = 0; i < 4; i++) {
            _fund(providers[i]);
        }
        for (uint256 k = 0; k < 3; k++) {
            vm.prank(builders[k]);
            market.openJob(jobIds[k], 1e24, block.timestamp + 10 days);
            _opened(k, builders[k], 1e24, block.timestamp + 10 days);
        }
        // providers 0 and 1 start bonded (so that unbonding and slashing are reached early), 2 and 3 do not
        for (uint256 i = 0; i < 2; i++) {
            vm.prank(providers[i]);
            market.bond(1e21);
            ghostBonded[i] += 1e21;
            ghostBondedIn += 1e21;
        }
    }

    function _fund(address who) internal {
        token.mint(who, 1e30);
        vm.prank(who);
        token.approve(address(market), type(uint256).max);
    }

    function _opened(uint256 k, address b, uint256 amount, uint256 deadline) internal {
        gStatus[k] = Marketplace.JobStatus.Open;
        gBuilder[k] = b;
        gDeadline[k] = deadline;
        ghostDeposited[k] += amount;
    }

    function _flag(string memory why) internal {
        if (!broken) brokenWhy = why; // keep the first violation: it is the one the call sequence shows
        broken = true;
    }

    /// a call the model says must succeed reverted: keep the first, with its revert data
    function _unexpected(string memory call, bytes memory err) internal {
        if (!unexpectedRevert) {
            unexpectedRevertWhy = string.concat(call, " reverted although valid by the model, revert data: ", _hex(err));
        }
        unexpectedRevert = true;
    }

    function _hex(bytes memory b) internal pure returns (string memory) {
        bytes memory digits = "0123456789abcdef";
        uint256 n = b.length < 100 ? b.length : 100;
        bytes memory out = new bytes(2 + 2 * n);
        out[0] = "0";
        out[1] = "x";
        for (uint256 i = 0; i < n; i++) {
            out[2 + 2 * i] = digits[uint8(b[i]) >> 4];
            out[3 + 2 * i] = digits[uint8(b[i]) & 15];
        }
        return string(out);
    }

    /// the first job index from `seed % 4` on (cyclically) for which `ok` holds, or `seed % 4` when none does
    function _firstJob(uint256 seed, function(uint256) internal view returns (bool) ok) internal view returns (uint256) {
        for (uint256 d = 0; d < 4; d++) {
            uint256 k = (seed % 4 + d) % 4;
            if (ok(k)) return k;
        }
        return seed % 4;
    }

    function _isOpenBeforeDeadline(uint256 k) internal view returns (bool) {
        return gStatus[k] == Marketplace.JobStatus.Open && block.timestamp <= gDeadline[k];
    }

    function _hasRoot(uint256 k) internal view returns (bool) {
        return gLastRound[k] > 0;
    }

    function _leafs(uint256[4] memory cum) internal view returns (bytes32[4] memory l) {
        for (uint256 i = 0; i < 4; i++) {
            l[i] = keccak256(bytes.concat(keccak256(abi.encode(providers[i], cum[i]))));
        }
    }

    function _leaves(uint256 k) internal view returns (bytes32[4] memory) {
        return _leafs(latest[k]);
    }

    function _pair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    function _proof(bytes32[4] memory l, uint256 i) internal pure returns (bytes32[] memory p) {
        p = new bytes32[](2);
        p[0] = l[i ^ 1];
        p[1] = i < 2 ? _pair(l[2], l[3]) : _pair(l[0], l[1]);
    }

    /// a builder other than the job's (anyone who is not its builder must be refused)
    function _otherBuilder(uint256 k, uint256 seed) internal view returns (address o) {
        o = builders[seed % 3];
        if (o == gBuilder[k]) o = builders[(seed + 1) % 3];
    }

    // ------------------------------------------------------------ actions

    function openJob(uint256 jobSeed, uint256 amount) external {
        calls++;
        uint256 k = jobSeed % 4;
        bytes32 id = jobIds[k];
        address b = builders[jobSeed % 3];
        if (gStatus[k] != Marketplace.JobStatus.None) {
            // an existing job is never opened again, by anyone
            vm.prank(b);
            try market.openJob(id, 1, block.timestamp + 10 days) {
                _flag("job opened twice");
            } catch {}
            return;
        }
        amount = bound(amount, 1, 1e24);
        uint256 deadline = block.timestamp + 10 days;
        vm.prank(b);
        try market.openJob(id, amount, deadline) {
            _opened(k, b, amount, deadline);
        } catch (bytes memory err) {
            _unexpected("openJob", err);
        }
    }

    /// the job's builder tops it up (valid exactly while it is open); one time in four someone else tries first
    function deposit(uint256 jobSeed, uint256 amount) external {
        calls++;
        uint256 k = jobSeed % 4;
        bytes32 id = jobIds[k];
        amount = bound(amount, 1, 1e24);
        if ((jobSeed >> 8) % 4 == 0) {
            vm.prank(_otherBuilder(k, jobSeed >> 10));
            try market.deposit(id, amount) {
                _flag("deposit by someone other than the builder");
            } catch {}
        }
        address b = gBuilder[k] == address(0) ? builders[jobSeed % 3] : gBuilder[k];
        bool valid = gStatus[k] == Marketplace.JobStatus.Open && ghostDeposited[k] + amount <= MAX_JOB;
        vm.prank(b);
        try market.deposit(id, amount) {
            if (!valid) {
                _flag("deposit into a job not open (or past MAX_JOB_AMOUNT)");
            } else {
                ghostDeposited[k] += amount;
            }
        } catch (bytes memory err) {
            if (valid) _unexpected("deposit", err);
        }
    }

    /// posts the next round of an open job (the first from the seed on): every provider's cumulative grows by 0..room/4
    function postRound(uint256 jobSeed, uint256 a, uint256 b, uint256 c, uint256 d) external {
        calls++;
        uint256 k = _firstJob(jobSeed, _isOpenBeforeDeadline);
        bytes32 id = jobIds[k];
        uint256 next = gLastRound[k] + 1;
        if (!_isOpenBeforeDeadline(k)) {
            // no job is open before its deadline: a round is refused even with every other argument valid
            vm.prank(coordinator);
            try market.postRound(id, uint32(next), bytes32(0), bytes32(uint256(1)), gCommitted[k]) {
                _flag("round posted to a job not open before its deadline");
            } catch {}
            return;
        }
        uint256 room = ghostDeposited[k] - gCommitted[k];
        uint256[4] memory cum = [bound(a, 0, room / 4), bound(b, 0, room / 4), bound(c, 0, room / 4), bound(d, 0, room / 4)];
        uint256 total;
        for (uint256 i = 0; i < 4; i++) {
            cum[i] += latest[k][i];
            total += cum[i];
        }
        bytes32[4] memory l = _leafs(cum);
        bytes32 root = _pair(_pair(l[0], l[1]), _pair(l[2], l[3]));
        vm.prank(coordinator);
        try market.postRound(id, uint32(next), keccak256(abi.encode(id, next)), root, total) {
            latest[k] = cum;
            gCommitted[k] = total;
            gLastRound[k] = next;
        } catch (bytes memory err) {
            _unexpected("postRound", err);
            return;
        }
        // the same round again, a total beyond the escrow, or a lower total must fail
        vm.prank(coordinator);
        try market.postRound(id, uint32(next), bytes32(0), root, total) {
            _flag("duplicate round accepted");
        } catch {}
        vm.prank(coordinator);
        try market.postRound(id, uint32(next + 1), bytes32(0), root, ghostDeposited[k] + 1) {
            _flag("round committing beyond the escrow accepted");
        } catch {}
        if (total > 0) {
            vm.prank(coordinator);
            try market.postRound(id, uint32(next + 1), bytes32(0), root, total - 1) {
                _flag("round lowering the committed total accepted");
            } catch {}
        }
    }

    /// claims, in a job with a round (the first from the seed on), for a provider with something new to
    /// claim (the first from `who` on); half of the time that provider then withdraws it
    function claim(uint256 jobSeed, uint256 who) external {
        calls++;
        uint256 k = _firstJob(jobSeed, _hasRoot);
        bytes32 id = jobIds[k];
        if (!_hasRoot(k)) {
            try market.claim(id, providers[who % 4], 0, new bytes32[](0)) {
                _flag("claim in a job without a round");
            } catch {}
            return;
        }
        uint256 i = who % 4;
        for (uint256 d = 0; d < 4; d++) {
            uint256 cand = (who % 4 + d) % 4;
            if (latest[k][cand] > ghostClaimed[k][cand]) {
                i = cand;
                break;
            }
        }
        bytes32[4] memory l = _leaves(k);
        uint256 before = ghostClaimed[k][i];
        uint256 cum = latest[k][i];
        try market.claim(id, providers[i], cum, _proof(l, i)) {
            if (cum <= before) {
                _flag("claim paid nothing but succeeded");
            } else {
                ghostPaid[k] += cum - before;
                ghostClaimed[k][i] = cum;
            }
        } catch (bytes memory err) {
            if (cum > before) _unexpected("claim", err);
        }
        // claiming the same amount again, or more than the root says, must fail
        try market.claim(id, providers[i], cum, _proof(l, i)) {
            _flag("double claim");
        } catch {}
        try market.claim(id, providers[i], cum + 1, _proof(l, i)) {
            _flag("claim beyond the root");
        } catch {}
        if ((who >> 8) % 2 == 0) _withdraw(i, k, (jobSeed >> 8) % 4);
    }

    /// withdraws two of the four jobs (possibly the same one twice) for one provider; three times in
    /// four the provider and the first job are the first (from the seeds on) with a claim not yet withdrawn
    function withdraw(uint256 who, uint256 jobSeed) external {
        calls++;
        uint256 i = who % 4;
        uint256 k0 = jobSeed % 4;
        if ((who >> 8) % 4 != 0) {
            bool found;
            for (uint256 d = 0; d < 16 && !found; d++) {
                uint256 pi = (who % 4 + d / 4) % 4;
                uint256 pk = (jobSeed % 4 + d) % 4;
                if (ghostClaimed[pk][pi] > ghostPaidOut[pk][pi]) {
                    (i, k0, found) = (pi, pk, true);
                }
            }
        }
        _withdraw(i, k0, (jobSeed >> 8) % 4);
    }

    function _withdraw(uint256 i, uint256 k0, uint256 k1) internal {
        address p = providers[i];
        bytes32[] memory ids = new bytes32[](2);
        ids[0] = jobIds[k0];
        ids[1] = jobIds[k1];
        // what the handler's claims booked and its withdrawals have not paid yet (a job listed twice counts once)
        uint256 a0 = ghostClaimed[k0][i] - ghostPaidOut[k0][i];
        uint256 a1 = k1 == k0 ? 0 : ghostClaimed[k1][i] - ghostPaidOut[k1][i];
        uint256 before = token.balanceOf(p);
        vm.prank(p);
        try market.withdraw(ids) {
            if (a0 + a1 == 0) _flag("withdraw with nothing booked succeeded");
            if (token.balanceOf(p) != before + a0 + a1) _flag("withdraw paid other than the booked claims");
            ghostPaidOut[k0][i] += a0;
            ghostPaidOut[k1][i] += a1;
        } catch (bytes memory err) {
            if (a0 + a1 > 0) _unexpected("withdraw", err);
        }
    }

    /// the coordinator finishes a job: valid exactly while it is open (its deadline does not matter)
    function finishJob(uint256 jobSeed) external {
        calls++;
        uint256 k = jobSeed % 4;
        bool valid = gStatus[k] == Marketplace.JobStatus.Open;
        vm.prank(coordinator);
        try market.finishJob(jobIds[k]) {
            if (!valid) {
                _flag("finishJob of a job not open");
            } else {
                gStatus[k] = Marketplace.JobStatus.Finished;
            }
        } catch (bytes memory err) {
            if (valid) _unexpected("finishJob", err);
        }
    }

    /// a refund, due exactly when the caller is the builder and the job is finished, or open and past its
    /// deadline; it pays deposited - committed - refunded and closes the job. An open job is first
    /// finished (half of the time), or the clock passes its deadline (a quarter), or stays as it is; one
    /// time in four someone other than the builder asks.
    function refund(uint256 jobSeed) external {
        calls++;
        uint256 k = jobSeed % 4;
        bytes32 id = jobIds[k];
        uint256 mode = (jobSeed >> 8) % 4;
        if (gStatus[k] == Marketplace.JobStatus.Open) {
            if (mode < 2) {
                vm.prank(coordinator);
                try market.finishJob(id) {
                    gStatus[k] = Marketplace.JobStatus.Finished;
                } catch (bytes memory err) {
                    _unexpected("finishJob (before a refund)", err);
                    return;
                }
            } else if (mode == 2 && block.timestamp <= gDeadline[k]) {
                vm.warp(gDeadline[k] + 1);
            }
        }
        address caller = gBuilder[k];
        if (caller == address(0) || (jobSeed >> 10) % 4 == 0) caller = _otherBuilder(k, jobSeed >> 12);
        bool due = caller == gBuilder[k]
            && (gStatus[k] == Marketplace.JobStatus.Finished
                || (gStatus[k] == Marketplace.JobStatus.Open && block.timestamp > gDeadline[k]));
        uint256 amount = due ? ghostDeposited[k] - gCommitted[k] - gRefunded[k] : 0;
        uint256 before = token.balanceOf(caller);
        vm.prank(caller);
        try market.refund(id) {
            if (!due) {
                _flag("refund accepted when not due (not the builder, or job neither finished nor past its deadline)");
                return;
            }
            if (token.balanceOf(caller) != before + amount) _flag("refund paid other than the uncommitted budget");
            gRefunded[k] += amount;
            gStatus[k] = Marketplace.JobStatus.Closed;
        } catch (bytes memory err) {
            if (due) _unexpected("refund", err);
        }
    }

    function bond(uint256 who, uint256 amount) external {
        calls++;
        uint256 i = who % 4;
        amount = bound(amount, 1, 1e24);
        vm.prank(providers[i]);
        try market.bond(amount) {
            ghostBonded[i] += amount;
            ghostBondedIn += amount;
        } catch (bytes memory err) {
            _unexpected("bond", err);
        }
    }

    /// requests unbonding of part of a bonded provider's stake (the first from `who` on with a bond);
    /// half of the time the provider then tries to withdraw at once (which the restarted delay forbids)
    function requestUnbond(uint256 who, uint256 amount) external {
        calls++;
        uint256 i = who % 4;
        for (uint256 d = 0; d < 4; d++) {
            if (ghostBonded[(who % 4 + d) % 4] > 0) {
                i = (who % 4 + d) % 4;
                break;
            }
        }
        address p = providers[i];
        uint256 bonded = ghostBonded[i];
        vm.prank(p);
        try market.requestUnbond(bonded + 1) {
            _flag("unbond beyond the bond");
        } catch {}
        if (bonded == 0) return;
        amount = bound(amount, 1, bonded);
        vm.prank(p);
        try market.requestUnbond(amount) {
            ghostBonded[i] -= amount;
            ghostUnbonding[i] += amount;
            // documented: a further request adds to the unbonding amount and restarts the delay
            expectedUnlockAt[i] = block.timestamp + delay;
        } catch (bytes memory err) {
            _unexpected("requestUnbond", err);
        }
        if ((who >> 8) % 2 == 0) _withdrawUnbonded(i);
    }

    /// three times in four by a provider with stake unbonding (the first from `who` on), early or not
    function withdrawUnbonded(uint256 who) external {
        calls++;
        uint256 i = who % 4;
        if ((who >> 8) % 4 != 0) {
            for (uint256 d = 0; d < 4; d++) {
                if (ghostUnbonding[(who % 4 + d) % 4] > 0) {
                    i = (who % 4 + d) % 4;
                    break;
                }
            }
        }
        _withdrawUnbonded(i);
    }

    function _withdrawUnbonded(uint256 i) internal {
        address p = providers[i];
        uint256 pending = ghostUnbonding[i];
        uint256 before = token.balanceOf(p);
        vm.prank(p);
        try market.withdrawUnbonded() {
            if (pending == 0) _flag("withdrew with nothing unbonding");
            if (block.timestamp < expectedUnlockAt[i]) _flag("withdrew before the unbonding delay");
            if (token.balanceOf(p) != before + pending) _flag("withdrawUnbonded paid other than the unbonding stake");
            ghostWithdrawn += pending;
            ghostUnbonding[i] = 0;
        } catch (bytes memory err) {
            if (pending > 0 && block.timestamp >= expectedUnlockAt[i]) _unexpected("withdrawUnbonded after the delay", err);
        }
    }

    /// the verifier slashes a provider within its stake, in the name of one of the four jobs or of none
    /// (jobSeed % 5 == 4: job id zero); compensationBps of it to that job's escrow if open or finished
    function slash(uint256 who, uint256 amount, uint256 jobSeed) external {
        calls++;
        uint256 i = who % 4;
        address p = providers[i];
        uint256 slashable = ghostBonded[i] + ghostUnbonding[i];
        uint256 k = jobSeed % 5;
        bytes32 id = k < 4 ? jobIds[k] : bytes32(0);
        vm.prank(verifier);
        try market.slash(p, slashable + 1, id, keccak256("too much")) {
            _flag("slash beyond the bond");
        } catch {}
        if (slashable == 0) return;
        uint256 amt = bound(amount, 1, slashable);
        // compensationBps of it to the job's escrow if open or finished (never past MAX_JOB_AMOUNT)
        uint256 toEscrow;
        if (k < 4 && (gStatus[k] == Marketplace.JobStatus.Open || gStatus[k] == Marketplace.JobStatus.Finished)) {
            toEscrow = amt * compensationBps / 10_000;
            uint256 room = MAX_JOB - ghostDeposited[k];
            if (toEscrow > room) toEscrow = room;
        }
        uint256 treasuryBefore = token.balanceOf(treasury);
        vm.prank(verifier);
        try market.slash(p, amt, id, keccak256("evidence")) {
            if (token.balanceOf(treasury) != treasuryBefore + amt - toEscrow) _flag("slash sent the treasury other than its share");
            ghostSlashed += amt;
            ghostToTreasury += amt - toEscrow;
            if (k < 4) ghostDeposited[k] += toEscrow;
            // bonded stake first, then unbonding
            if (amt <= ghostBonded[i]) {
                ghostBonded[i] -= amt;
            } else {
                ghostUnbonding[i] -= amt - ghostBonded[i];
                ghostBonded[i] = 0;
            }
        } catch (bytes memory err) {
            _unexpected("slash", err);
        }
    }

    /// the admin changes the compensation share or the unbonding delay (both valid, the model follows),
    /// or tries a share above 100 % (must fail)
    function adminSets(uint256 what, uint256 value) external {
        calls++;
        uint256 w = what % 3;
        vm.prank(admin);
        if (w == 0) {
            uint256 bps = bound(value, 0, 10_000);
            try market.setCompensationBps(uint16(bps)) {
                compensationBps = bps;
            } catch (bytes memory err) {
                _unexpected("setCompensationBps", err);
            }
        } else if (w == 1) {
            uint256 d = bound(value, 0, 14 days);
            try market.setUnbondingDelay(uint64(d)) {
                delay = d;
            } catch (bytes memory err) {
                _unexpected("setUnbondingDelay", err);
            }
        } else {
            try market.setCompensationBps(uint16(bound(value, 10_001, type(uint16).max))) {
                _flag("compensationBps above 100 % accepted");
            } catch {}
        }
    }

    /// Callers without the role (the three builders; the coordinator for the verifier's and the admin's
    /// calls; the verifier for the coordinator's and the admin's) try each privileged call with arguments
    /// that would succeed for the right role: the next round of an open job, finishing it, a slash of
    /// stake that exists, every admin setter, granting and revoking roles, renouncing another's role.
    /// Only a role check stands in the way, so a missing one is caught.
    function intruder(uint256 what, uint256 jobSeed, uint256 who) external {
        calls++;
        address[5] memory callers = [builders[0], builders[1], builders[2], coordinator, verifier];
        address bad = callers[what % 5];
        uint256 k = _firstJob(jobSeed, _isOpenBeforeDeadline);
        bytes32 id = jobIds[k];
        if (bad != coordinator) {
            vm.prank(bad);
            try market.postRound(id, uint32(gLastRound[k] + 1), keccak256("forged"), bytes32(uint256(1)), gCommitted[k]) {
                _flag("postRound by a non-coordinator");
            } catch {}
            vm.prank(bad);
            try market.finishJob(id) {
                _flag("finishJob by a non-coordinator");
            } catch {}
        }
        if (bad != verifier) {
            uint256 i = who % 4;
            for (uint256 d = 0; d < 4; d++) {
                if (ghostBonded[(who % 4 + d) % 4] + ghostUnbonding[(who % 4 + d) % 4] > 0) {
                    i = (who % 4 + d) % 4;
                    break;
                }
            }
            vm.prank(bad);
            try market.slash(providers[i], 1, id, keccak256("forged")) {
                _flag("slash by a non-verifier");
            } catch {}
        }
        _intruderAdmin(bad);
    }

    function _intruderAdmin(address bad) internal {
        vm.prank(bad);
        try market.setTreasury(bad) {
            _flag("setTreasury by a non-admin");
        } catch {}
        vm.prank(bad);
        try market.setUnbondingDelay(0) {
            _flag("setUnbondingDelay by a non-admin");
        } catch {}
        vm.prank(bad);
        try market.setCompensationBps(10_000) {
            _flag("setCompensationBps by a non-admin");
        } catch {}
        vm.prank(bad);
        try market.grantRole(bad == coordinator ? verifRole : coordRole, bad) {
            _flag("grantRole by a non-admin");
        } catch {}
        vm.prank(bad);
        try market.revokeRole(bad == verifier ? coordRole : verifRole, bad == verifier ? coordinator : verifier) {
            _flag("revokeRole by a non-admin");
        } catch {}
        vm.prank(bad);
        try market.renounceRole(bad == coordinator ? verifRole : coordRole, bad == coordinator ? verifier : coordinator) {
            _flag("renounceRole of another's role");
        } catch {}
    }

    function warp(uint256 secs) external {
        calls++;
        vm.warp(block.timestamp + bound(secs, 1, 4 days));
    }

    /// jumps to the unlock time of a provider's unbonding stake (the first from `who` on with some), or
    /// to one second before it, so that withdrawUnbonded is tried on both sides of the boundary
    function warpToUnlock(uint256 who, bool early) external {
        calls++;
        for (uint256 d = 0; d < 4; d++) {
            uint256 i = (who % 4 + d) % 4;
            if (ghostUnbonding[i] == 0) continue;
            uint256 t = expectedUnlockAt[i] - (early ? 1 : 0);
            if (t > block.timestamp) {
                vm.warp(t);
                return;
            }
        }
    }

    // ------------------------------------------------------------ views for the invariants

    function provider(uint256 i) external view returns (address) {
        return providers[i];
    }

    function ghosts() external view returns (Ghosts memory g) {
        for (uint256 k = 0; k < 4; k++) {
            g.status[k] = uint256(gStatus[k]);
            g.expectedBalance += ghostDeposited[k] - gRefunded[k];
            for (uint256 i = 0; i < 4; i++) {
                g.expectedBalance -= ghostPaidOut[k][i];
            }
        }
        g.expectedBalance += ghostBondedIn - ghostSlashed - ghostWithdrawn;
        g.builder = gBuilder;
        g.deadline = gDeadline;
        g.lastRound = gLastRound;
        g.committed = gCommitted;
        g.refunded = gRefunded;
        g.deposited = ghostDeposited;
        g.paid = ghostPaid;
        g.latest = latest;
        g.claimed = ghostClaimed;
        g.paidOut = ghostPaidOut;
        g.bonded = ghostBonded;
        g.unbonding = ghostUnbonding;
        g.bondedIn = ghostBondedIn;
        g.slashed = ghostSlashed;
        g.withdrawn = ghostWithdrawn;
        g.toTreasury = ghostToTreasury;
        g.broken = broken;
        g.brokenWhy = brokenWhy;
        g.unexpectedRevert = unexpectedRevert;
        g.unexpectedRevertWhy = unexpectedRevertWhy;
    }
}

contract MarketplaceInvariants is Fixture {
    Handler internal handler;
    bytes32[4] internal ids;
    address[4] internal provs;

    function setUp() public {
        deploy();
        handler = new Handler(market, token, coordinator, verifier, admin, treasury, DELAY, COMP_BPS);
        for (uint256 k = 0; k < 4; k++) {
            ids[k] = handler.jobIds(k);
            provs[k] = handler.provider(k);
        }
    }

    /// forge reads the fuzzed targets from this (what forge-std's StdInvariant provides).
    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    /// One campaign (10,000 runs of 7 calls, see foundry.toml) checks every property after every
    /// call (check_interval = 1): a campaign per property would multiply the run time for no extra
    /// coverage. The ghosts come in one call and each contract value is read once (the run time is
    /// mostly these reads).
    function invariant_marketplace() public view {
        Handler.Ghosts memory g = handler.ghosts();
        assertTrue(!g.broken, g.brokenWhy);
        assertTrue(!g.unexpectedRevert, g.unexpectedRevertWhy);
        uint256[4][4] memory unw;
        uint256 held;
        for (uint256 k = 0; k < 4; k++) {
            Marketplace.Job memory j = market.getJob(ids[k]);
            _checkJob(j, g, k);
            uint256 sumClaimed;
            for (uint256 i = 0; i < 4; i++) {
                unw[k][i] = market.unwithdrawn(ids[k], provs[i]);
                uint256 c = market.claimed(ids[k], provs[i]);
                // claims never exceed the root; claimed = unwithdrawn + withdrawn
                assertLe(c, g.latest[k][i], "claimed <= latest cumulative");
                assertEq(c, g.claimed[k][i], "claimed = what the claims booked");
                assertEq(unw[k][i] + g.paidOut[k][i], c, "claimed = unwithdrawn + withdrawn");
                sumClaimed += c;
                held += unw[k][i];
            }
            assertEq(sumClaimed, g.paid[k], "sum of claims = paid");
            // escrow conservation: paid + refunded + held = deposited
            assertLe(g.paid[k] + j.refunded, j.deposited, "paid + refunded <= deposited");
            assertLe(g.paid[k], j.committed, "paid <= committed");
            assertLe(uint256(j.committed) + j.refunded, j.deposited, "committed + refunded <= deposited");
            held += j.deposited - j.refunded - g.paid[k];
        }
        uint256 stake;
        for (uint256 i = 0; i < 4; i++) {
            Marketplace.Bond memory b = market.bondOf(provs[i]);
            assertEq(b.bonded, g.bonded[i], "bonded stake");
            assertEq(b.unbonding, g.unbonding[i], "unbonding stake");
            stake += uint256(b.bonded) + b.unbonding;
        }
        assertEq(stake, market.totalBonded(), "sum of bonds = totalBonded");
        assertEq(g.bondedIn, stake + g.slashed + g.withdrawn, "stake in = held + slashed + withdrawn");
        uint256 balance = token.balanceOf(address(market));
        // the contract's own books against its balance, then the balance against the model alone
        assertEq(balance, held + stake, "token balance = held escrow + unwithdrawn + stake");
        assertEq(balance, g.expectedBalance, "token balance = budgets + bonds in - refunds - withdrawals - treasury shares out");
        assertEq(token.balanceOf(treasury), g.toTreasury, "treasury = the slashes' treasury shares");
    }

    /// the job as the contract stores it = the job as the model has it
    function _checkJob(Marketplace.Job memory j, Handler.Ghosts memory g, uint256 k) internal pure {
        assertEq(uint256(j.status), g.status[k], "job status");
        assertEq(j.builder, g.builder[k], "job builder");
        assertEq(j.deadline, g.deadline[k], "job deadline");
        assertEq(j.lastRound, g.lastRound[k], "last round");
        assertEq(j.committed, g.committed[k], "committed = the latest root's total");
        assertEq(j.refunded, g.refunded[k], "refunded = deposited - committed at the refund");
        assertEq(j.deposited, g.deposited[k], "deposited (budget + top-ups + compensation)");
    }
}
