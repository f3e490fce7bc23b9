// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Fixture} from "./Fixture.sol";
import {TestBase} from "./Vm.sol";
import {Marketplace} from "../src/main/solidity/Marketplace.sol";
import {TestToken} from "../src/main/solidity/TestToken.sol";

/// Random sequences of marketplace actions by builders, providers, the coordinator and the verifier.
/// Ghost variables record what the contract must have done, computed from the documented rules and
/// never read back from the contract (deposits and compensation, payouts, per-provider bonded and
/// unbonding stake, the unlock time of each provider's unbonding stake); "broken" flags record any
/// call that succeeded when it must not (double claim, claim beyond the root, slash or unbond beyond
/// the bond, early withdrawal, a privileged call by the wrong role) or failed when it must succeed.
/// The actions are biased towards useful targets (an open job for a round, a provider with something
/// to claim, a claim followed by its withdrawal, a provider whose stake is unbonding), so that short
/// sequences reach the deep states: post, claim, withdraw; bond, unbond, wait, withdraw.
contract Handler is TestBase {
    Marketplace internal market;
    TestToken internal token;
    address internal coordinator;
    address internal verifier;
    /// the deployment's parameters, as the fixture set them (not read from the contract)
    uint256 internal immutable delay;
    uint256 internal immutable compensationBps;
    address[3] internal builders = [address(0xB1), address(0xB2), address(0xB3)];
    address[4] internal providers = [address(0x1001), address(0x1002), address(0x1003), address(0x1004)];
    /// jobs 0-2 are opened at setup so that short call sequences reach rounds, claims and refunds; job 3 by an action
    bytes32[4] public jobIds = [keccak256("j0"), keccak256("j1"), keccak256("j2"), keccak256("j3")];

    // per job (index 0-3): latest posted cumulative per provider, what the contract must hold, and paid
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
    bool internal broken;
    string internal brokenWhy;
    uint256 public calls;

    /// Everything the invariant compares with the contract, in one call (each external call costs the
    /// campaign time: one view instead of ~120 getters lets it check after every call).
    struct Ghosts {
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
        bool broken;
        string brokenWhy;
    }

    constructor(Marketplace m, TestToken t, address coord, address verif, uint256 delay_, uint256 compensationBps_) {
        market = m;
        token = t;
        coordinator = coord;
        verifier = verif;
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
            ghostDeposited[k] += 1e24;
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

    function _flag(string memory why) internal {
        if (!broken) brokenWhy = why; // keep the first violation: it is the one the call sequence shows
        broken = true;
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
        Marketplace.Job memory j = market.getJob(jobIds[k]);
        return j.status == Marketplace.JobStatus.Open && block.timestamp <= j.deadline;
    }

    function _hasRoot(uint256 k) internal view returns (bool) {
        return market.getJob(jobIds[k]).payoutRoot != bytes32(0);
    }

    function _leaves(uint256 k) internal view returns (bytes32[4] memory l) {
        for (uint256 i = 0; i < 4; i++) {
            l[i] = keccak256(bytes.concat(keccak256(abi.encode(providers[i], latest[k][i]))));
        }
    }

    function _pair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    function _proof(bytes32[4] memory l, uint256 i) internal pure returns (bytes32[] memory p) {
        p = new bytes32[](2);
        p[0] = l[i ^ 1];
        p[1] = i < 2 ? _pair(l[2], l[3]) : _pair(l[0], l[1]);
    }

    // ------------------------------------------------------------ actions

    function openJob(uint256 jobSeed, uint256 amount) external {
        calls++;
        uint256 k = jobSeed % 4;
        bytes32 id = jobIds[k];
        if (market.getJob(id).status != Marketplace.JobStatus.None) return;
        amount = bound(amount, 1, 1e24);
        address b = builders[jobSeed % 3];
        vm.prank(b);
        market.openJob(id, amount, block.timestamp + 10 days);
        ghostDeposited[k] += amount;
    }

    function deposit(uint256 jobSeed, uint256 amount) external {
        calls++;
        uint256 k = jobSeed % 4;
        bytes32 id = jobIds[k];
        Marketplace.Job memory j = market.getJob(id);
        if (j.status != Marketplace.JobStatus.Open) return;
        amount = bound(amount, 1, 1e24);
        vm.prank(j.builder);
        market.deposit(id, amount);
        ghostDeposited[k] += amount;
    }

    /// posts the next round of an open job (the first from the seed on): every provider's cumulative grows by 0..room/4
    function postRound(uint256 jobSeed, uint256 a, uint256 b, uint256 c, uint256 d) external {
        calls++;
        uint256 k = _firstJob(jobSeed, _isOpenBeforeDeadline);
        if (!_isOpenBeforeDeadline(k)) return;
        bytes32 id = jobIds[k];
        Marketplace.Job memory j = market.getJob(id);
        uint256 room = j.deposited - j.committed;
        uint256[4] memory inc = [bound(a, 0, room / 4), bound(b, 0, room / 4), bound(c, 0, room / 4), bound(d, 0, room / 4)];
        uint256 total;
        for (uint256 i = 0; i < 4; i++) {
            latest[k][i] += inc[i];
            total += latest[k][i];
        }
        bytes32[4] memory l = _leaves(k);
        bytes32 root = _pair(_pair(l[0], l[1]), _pair(l[2], l[3]));
        vm.prank(coordinator);
        market.postRound(id, j.lastRound + 1, keccak256(abi.encode(id, j.lastRound + 1)), root, total);
        // the same round again must fail
        vm.prank(coordinator);
        try market.postRound(id, j.lastRound + 1, bytes32(0), root, total) {
            _flag("duplicate round accepted");
        } catch {}
    }

    /// claims, in a job with a round (the first from the seed on), for a provider with something new to
    /// claim (the first from `who` on); half of the time that provider then withdraws it
    function claim(uint256 jobSeed, uint256 who) external {
        calls++;
        uint256 k = _firstJob(jobSeed, _hasRoot);
        if (!_hasRoot(k)) return;
        bytes32 id = jobIds[k];
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
        } catch {
            if (cum > before) _flag("valid claim refused");
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
        } catch {
            if (a0 + a1 > 0) _flag("withdrawal refused");
        }
    }

    function finishJob(uint256 jobSeed) external {
        calls++;
        bytes32 id = jobIds[jobSeed % 4];
        if (market.getJob(id).status != Marketplace.JobStatus.Open) return;
        vm.prank(coordinator);
        market.finishJob(id);
    }

    function refund(uint256 jobSeed) external {
        calls++;
        bytes32 id = jobIds[jobSeed % 4];
        Marketplace.Job memory j = market.getJob(id);
        if (j.status == Marketplace.JobStatus.None) return;
        if (j.status == Marketplace.JobStatus.Open && (jobSeed >> 8) % 2 == 0) {
            vm.prank(coordinator);
            market.finishJob(id);
        }
        vm.prank(j.builder);
        try market.refund(id) {} catch {}
    }

    function bond(uint256 who, uint256 amount) external {
        calls++;
        uint256 i = who % 4;
        amount = bound(amount, 1, 1e24);
        vm.prank(providers[i]);
        market.bond(amount);
        ghostBonded[i] += amount;
        ghostBondedIn += amount;
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
        } catch {
            _flag("valid unbond request refused");
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
        } catch {
            if (pending > 0 && block.timestamp >= expectedUnlockAt[i]) _flag("unbonded stake refused after the delay");
        }
    }

    function slash(uint256 who, uint256 amount, uint256 jobSeed) external {
        calls++;
        uint256 i = who % 4;
        address p = providers[i];
        uint256 slashable = ghostBonded[i] + ghostUnbonding[i];
        uint256 k = jobSeed % 4;
        bytes32 id = jobIds[k];
        vm.prank(verifier);
        try market.slash(p, slashable + 1, id, keccak256("too much")) {
            _flag("slash beyond the bond");
        } catch {}
        if (slashable == 0) return;
        uint256 amt = bound(amount, 1, slashable);
        Marketplace.JobStatus st = market.getJob(id).status;
        vm.prank(verifier);
        market.slash(p, amt, id, keccak256("evidence"));
        ghostSlashed += amt;
        // bonded stake first, then unbonding
        if (amt <= ghostBonded[i]) {
            ghostBonded[i] -= amt;
        } else {
            ghostUnbonding[i] -= amt - ghostBonded[i];
            ghostBonded[i] = 0;
        }
        // compensationBps of it to the job's escrow if open or finished (never past MAX_JOB_AMOUNT)
        if (st == Marketplace.JobStatus.Open || st == Marketplace.JobStatus.Finished) {
            uint256 toEscrow = amt * compensationBps / 10_000;
            uint256 room = market.MAX_JOB_AMOUNT() - ghostDeposited[k];
            ghostDeposited[k] += toEscrow < room ? toEscrow : room;
        }
    }

    function intruder(uint256 what, uint256 jobSeed) external {
        calls++;
        address bad = builders[what % 3];
        bytes32 id = jobIds[jobSeed % 4];
        vm.prank(bad);
        try market.postRound(id, 1000, bytes32(0), bytes32(0), 0) {
            _flag("postRound by a builder");
        } catch {}
        vm.prank(bad);
        try market.slash(providers[0], 1, id, bytes32(0)) {
            _flag("slash by a builder");
        } catch {}
        vm.prank(bad);
        try market.finishJob(id) {
            _flag("finishJob by a builder");
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
        g.broken = broken;
        g.brokenWhy = brokenWhy;
    }
}

contract MarketplaceInvariants is Fixture {
    Handler internal handler;
    bytes32[4] internal ids;
    address[4] internal provs;

    function setUp() public {
        deploy();
        handler = new Handler(market, token, coordinator, verifier, DELAY, COMP_BPS);
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
        uint256[4][4] memory unw;
        uint256 held;
        for (uint256 k = 0; k < 4; k++) {
            Marketplace.Job memory j = market.getJob(ids[k]);
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
            assertEq(j.deposited, g.deposited[k], "deposited (budget + compensation)");
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
        assertEq(token.balanceOf(address(market)), held + stake, "token balance = held escrow + unwithdrawn + stake");
    }
}
