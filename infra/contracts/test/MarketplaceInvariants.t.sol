// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Fixture} from "./Fixture.sol";
import {TestBase} from "./Vm.sol";
import {Marketplace} from "../src/main/solidity/Marketplace.sol";
import {TestToken} from "../src/main/solidity/TestToken.sol";

/// Random sequences of marketplace actions by builders, providers, the coordinator and the verifier.
/// Ghost variables record what the contract must have done; "broken" flags record any call that
/// succeeded when it must not (double claim, claim beyond the root, slash beyond the bond, early
/// withdrawal, a privileged call by the wrong role).
contract Handler is TestBase {
    Marketplace internal market;
    TestToken internal token;
    address internal coordinator;
    address internal verifier;
    address[3] internal builders = [address(0xB1), address(0xB2), address(0xB3)];
    address[4] internal providers = [address(0x1001), address(0x1002), address(0x1003), address(0x1004)];
    /// jobs 0-2 are opened at setup so that short call sequences reach rounds, claims and refunds; job 3 by an action
    bytes32[4] public jobIds = [keccak256("j0"), keccak256("j1"), keccak256("j2"), keccak256("j3")];

    // per job: latest posted cumulative per provider, and what the contract paid
    mapping(bytes32 => uint256[4]) internal latest;
    mapping(bytes32 => uint256) public ghostPaid;
    mapping(bytes32 => uint256) public ghostDeposited;
    uint256 public ghostBondedIn;
    uint256 public ghostSlashed;
    uint256 public ghostWithdrawn;
    /// per job and provider: what withdraw sent to the provider's wallet
    mapping(bytes32 => uint256[4]) internal ghostPaidOut;
    bool public broken;
    string public brokenWhy;
    uint256 public calls;

    constructor(Marketplace m, TestToken t, address coord, address verif) {
        market = m;
        token = t;
        coordinator = coord;
        verifier = verif;
        for (uint256 i = 0; i < 3; i++) {
            _fund(builders[i]);
        }
        for (uint256 i = 0; i < 4; i++) {
            _fund(providers[i]);
        }
        for (uint256 k = 0; k < 3; k++) {
            vm.prank(builders[k]);
            market.openJob(jobIds[k], 1e24, block.timestamp + 10 days);
            ghostDeposited[jobIds[k]] += 1e24;
        }
    }

    function _fund(address who) internal {
        token.mint(who, 1e30);
        vm.prank(who);
        token.approve(address(market), type(uint256).max);
    }

    function _job(uint256 seed) internal view returns (bytes32) {
        return jobIds[seed % 4];
    }

    function _flag(string memory why) internal {
        broken = true;
        brokenWhy = why;
    }

    function _leaves(bytes32 id) internal view returns (bytes32[4] memory l) {
        for (uint256 i = 0; i < 4; i++) {
            l[i] = keccak256(bytes.concat(keccak256(abi.encode(providers[i], latest[id][i]))));
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
        bytes32 id = _job(jobSeed);
        if (market.getJob(id).status != Marketplace.JobStatus.None) return;
        amount = bound(amount, 1, 1e24);
        address b = builders[jobSeed % 3];
        vm.prank(b);
        market.openJob(id, amount, block.timestamp + 10 days);
        ghostDeposited[id] += amount;
    }

    function deposit(uint256 jobSeed, uint256 amount) external {
        calls++;
        bytes32 id = _job(jobSeed);
        Marketplace.Job memory j = market.getJob(id);
        if (j.status != Marketplace.JobStatus.Open) return;
        amount = bound(amount, 1, 1e24);
        vm.prank(j.builder);
        market.deposit(id, amount);
        ghostDeposited[id] += amount;
    }

    function postRound(uint256 jobSeed, uint256 a, uint256 b, uint256 c, uint256 d) external {
        calls++;
        bytes32 id = _job(jobSeed);
        Marketplace.Job memory j = market.getJob(id);
        if (j.status != Marketplace.JobStatus.Open || block.timestamp > j.deadline) return;
        uint256 room = j.deposited - j.committed;
        uint256[4] memory inc = [bound(a, 0, room / 4), bound(b, 0, room / 4), bound(c, 0, room / 4), bound(d, 0, room / 4)];
        uint256 total;
        for (uint256 i = 0; i < 4; i++) {
            latest[id][i] += inc[i];
            total += latest[id][i];
        }
        bytes32[4] memory l = _leaves(id);
        bytes32 root = _pair(_pair(l[0], l[1]), _pair(l[2], l[3]));
        vm.prank(coordinator);
        market.postRound(id, j.lastRound + 1, keccak256(abi.encode(id, j.lastRound + 1)), root, total);
        // the same round again must fail
        vm.prank(coordinator);
        try market.postRound(id, j.lastRound + 1, bytes32(0), root, total) {
            _flag("duplicate round accepted");
        } catch {}
    }

    function claim(uint256 jobSeed, uint256 who) external {
        calls++;
        bytes32 id = _job(jobSeed);
        if (market.getJob(id).payoutRoot == bytes32(0)) return;
        uint256 i = who % 4;
        bytes32[4] memory l = _leaves(id);
        uint256 before = market.claimed(id, providers[i]);
        uint256 cum = latest[id][i];
        try market.claim(id, providers[i], cum, _proof(l, i)) {
            ghostPaid[id] += cum - before;
            if (cum <= before) _flag("claim paid nothing but succeeded");
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
    }

    /// withdraws two of the four jobs (possibly the same one twice) for one provider
    function withdraw(uint256 who, uint256 jobSeed) external {
        calls++;
        uint256 i = who % 4;
        address p = providers[i];
        bytes32[] memory ids = new bytes32[](2);
        ids[0] = _job(jobSeed);
        ids[1] = _job(jobSeed >> 8);
        uint256 a0 = market.unwithdrawn(ids[0], p);
        uint256 a1 = ids[1] == ids[0] ? 0 : market.unwithdrawn(ids[1], p);
        uint256 before = token.balanceOf(p);
        vm.prank(p);
        try market.withdraw(ids) {
            if (token.balanceOf(p) - before != a0 + a1) _flag("withdraw paid other than the booked claims");
            ghostPaidOut[ids[0]][i] += a0;
            ghostPaidOut[ids[1]][i] += a1;
        } catch {
            if (a0 + a1 > 0) _flag("withdrawal refused");
        }
    }

    function finishJob(uint256 jobSeed) external {
        calls++;
        bytes32 id = _job(jobSeed);
        if (market.getJob(id).status != Marketplace.JobStatus.Open) return;
        vm.prank(coordinator);
        market.finishJob(id);
    }

    function refund(uint256 jobSeed) external {
        calls++;
        bytes32 id = _job(jobSeed);
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
        amount = bound(amount, 1, 1e24);
        vm.prank(providers[who % 4]);
        market.bond(amount);
        ghostBondedIn += amount;
    }

    function requestUnbond(uint256 who, uint256 amount) external {
        calls++;
        address p = providers[who % 4];
        uint256 bonded = market.bondOf(p).bonded;
        if (bonded == 0) return;
        vm.prank(p);
        market.requestUnbond(bound(amount, 1, bonded));
    }

    function withdrawUnbonded(uint256 who) external {
        calls++;
        address p = providers[who % 4];
        Marketplace.Bond memory b = market.bondOf(p);
        vm.prank(p);
        try market.withdrawUnbonded() {
            if (block.timestamp < b.unlockAt) _flag("withdrew before the unbonding delay");
            ghostWithdrawn += b.unbonding;
        } catch {}
    }

    function slash(uint256 who, uint256 amount, uint256 jobSeed) external {
        calls++;
        address p = providers[who % 4];
        Marketplace.Bond memory b = market.bondOf(p);
        uint256 slashable = uint256(b.bonded) + b.unbonding;
        vm.prank(verifier);
        try market.slash(p, slashable + 1, _job(jobSeed), keccak256("too much")) {
            _flag("slash beyond the bond");
        } catch {}
        if (slashable == 0) return;
        uint256 amt = bound(amount, 1, slashable);
        bytes32 id = _job(jobSeed);
        Marketplace.JobStatus st = market.getJob(id).status;
        uint256 depositedBefore = market.getJob(id).deposited;
        vm.prank(verifier);
        market.slash(p, amt, id, keccak256("evidence"));
        ghostSlashed += amt;
        ghostDeposited[id] += market.getJob(id).deposited - depositedBefore;
        if (st == Marketplace.JobStatus.Closed && market.getJob(id).deposited != depositedBefore) {
            _flag("compensation paid into a closed job");
        }
    }

    function intruder(uint256 what, uint256 jobSeed) external {
        calls++;
        address bad = builders[what % 3];
        bytes32 id = _job(jobSeed);
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

    // ------------------------------------------------------------ views for the invariants

    function latestOf(bytes32 id, uint256 i) external view returns (uint256) {
        return latest[id][i];
    }

    function provider(uint256 i) external view returns (address) {
        return providers[i];
    }

    function paidOutOf(bytes32 id, uint256 i) external view returns (uint256) {
        return ghostPaidOut[id][i];
    }
}

contract MarketplaceInvariants is Fixture {
    Handler internal handler;

    function setUp() public {
        deploy();
        handler = new Handler(market, token, coordinator, verifier);
    }

    /// forge reads the fuzzed targets from this (what forge-std's StdInvariant provides).
    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    /// One campaign (10,000 runs, see foundry.toml) checks every property after every call: a
    /// campaign per property would multiply the run time by four for no extra coverage.
    function invariant_marketplace() public view {
        checkEscrowConservation();
        checkClaimsNeverExceedTheRoot();
        checkStakeAccounting();
        checkNothingForbiddenEverSucceeded();
    }

    /// paid + refunded + held = deposited, for every job, and the contract's token balance is exactly
    /// the jobs' held escrow plus the claims not yet withdrawn plus all stake.
    function checkEscrowConservation() internal view {
        uint256 held;
        for (uint256 k = 0; k < 4; k++) {
            bytes32 id = handler.jobIds(k);
            Marketplace.Job memory j = market.getJob(id);
            assertEq(j.deposited, handler.ghostDeposited(id), "deposited");
            uint256 paid = handler.ghostPaid(id);
            assertLe(paid + j.refunded, j.deposited, "paid + refunded <= deposited");
            assertLe(paid, j.committed, "paid <= committed");
            assertLe(uint256(j.committed) + j.refunded, j.deposited, "committed + refunded <= deposited");
            held += j.deposited - j.refunded - paid;
            for (uint256 i = 0; i < 4; i++) {
                held += market.unwithdrawn(id, handler.provider(i));
            }
        }
        assertEq(token.balanceOf(address(market)), held + market.totalBonded(), "token balance = held escrow + unwithdrawn + stake");
    }

    function checkClaimsNeverExceedTheRoot() internal view {
        for (uint256 k = 0; k < 4; k++) {
            bytes32 id = handler.jobIds(k);
            uint256 sum;
            for (uint256 i = 0; i < 4; i++) {
                uint256 c = market.claimed(id, handler.provider(i));
                assertLe(c, handler.latestOf(id, i), "claimed <= latest cumulative");
                assertEq(market.unwithdrawn(id, handler.provider(i)) + handler.paidOutOf(id, i), c, "claimed = unwithdrawn + withdrawn");
                sum += c;
            }
            assertEq(sum, handler.ghostPaid(id), "sum of claims = paid");
        }
    }

    function checkStakeAccounting() internal view {
        uint256 sum;
        for (uint256 i = 0; i < 4; i++) {
            Marketplace.Bond memory b = market.bondOf(handler.provider(i));
            sum += uint256(b.bonded) + b.unbonding;
        }
        assertEq(sum, market.totalBonded(), "sum of bonds = totalBonded");
        assertEq(
            handler.ghostBondedIn(), sum + handler.ghostSlashed() + handler.ghostWithdrawn(), "stake in = held + slashed + withdrawn"
        );
    }

    function checkNothingForbiddenEverSucceeded() internal view {
        assertTrue(!handler.broken(), handler.brokenWhy());
    }
}
