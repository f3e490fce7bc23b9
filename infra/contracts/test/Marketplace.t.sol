// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Fixture} from "./Fixture.sol";
import {Marketplace} from "../src/main/solidity/Marketplace.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

contract MarketplaceTest is Fixture {
    bytes32 constant JOB = keccak256("job-1");
    address constant P1 = address(0x1001);
    address constant P2 = address(0x1002);
    address constant P3 = address(0x1003);
    address constant P4 = address(0x1004);

    function setUp() public {
        deploy();
    }

    function leaves(uint256 a, uint256 b, uint256 c, uint256 d) internal pure returns (bytes32[4] memory l) {
        l[0] = leaf(P1, a);
        l[1] = leaf(P2, b);
        l[2] = leaf(P3, c);
        l[3] = leaf(P4, d);
    }

    // ------------------------------------------------------------ Java vectors

    /// The StandardMerkleTree vector MerkleTreeTest (Java) also checks: leaves and root agree byte for byte.
    function test_javaAndOpenZeppelinVectorsVerifyOnChain() public pure {
        address a = 0x80d628ff4AC2aFf620C3474663F1e559234bbE0c;
        assertEq(leaf(a, 0), 0x1867c4ebd455913e429523a5c2d4b3a79f58068b5a25af911956245ed03a659d, "leaf(A,0)");
        assertEq(leaf(a, 1), 0x36fb17c97ec80bb961ff0adff1af4a2a34847ecc40653c162e327117a76e3ec9, "leaf(A,1)");
        bytes32 root = 0x0fecce441c7468f17e3fe4a5f211b77a15b27c9ab3d33317df385dfbe5487034;
        bytes32[] memory proof = new bytes32[](2);
        proof[0] = 0x36fb17c97ec80bb961ff0adff1af4a2a34847ecc40653c162e327117a76e3ec9;
        proof[1] = 0xd90245da324d7908326a3d56a9659741551a4603c397bf4dd373976bd85660e7;
        assertTrue(MerkleProof.verify(proof, root, leaf(a, 0)), "Java proof of (A,0)");
        assertTrue(!MerkleProof.verify(proof, root, leaf(a, 5)), "wrong amount rejected");
    }

    // ------------------------------------------------------------ escrow

    function test_openJobEscrowsAndEmits() public {
        fund(builder, 100);
        vm.expectEmit(true, true, false, true);
        emit Marketplace.JobOpened(JOB, builder, 100, block.timestamp + 1 days);
        vm.prank(builder);
        market.openJob(JOB, 100, block.timestamp + 1 days);
        assertEq(token.balanceOf(address(market)), 100, "escrowed");
        vm.expectRevert(abi.encodeWithSelector(Marketplace.JobExists.selector, JOB));
        vm.prank(builder);
        market.openJob(JOB, 100, block.timestamp + 1 days);
    }

    function test_openJobRejectsBadInput() public {
        fund(builder, 100);
        vm.startPrank(builder);
        vm.expectRevert(Marketplace.ZeroAmount.selector);
        market.openJob(JOB, 0, block.timestamp + 1);
        vm.expectRevert(abi.encodeWithSelector(Marketplace.DeadlineInPast.selector, block.timestamp, block.timestamp));
        market.openJob(JOB, 1, block.timestamp);
        vm.stopPrank();
    }

    function test_onlyBuilderDepositsAndRefunds() public {
        openJob(JOB, 100);
        fund(P1, 10);
        vm.prank(P1);
        vm.expectRevert(abi.encodeWithSelector(Marketplace.NotBuilder.selector, JOB, P1));
        market.deposit(JOB, 10);
        vm.prank(P1);
        vm.expectRevert(abi.encodeWithSelector(Marketplace.NotBuilder.selector, JOB, P1));
        market.refund(JOB);
    }

    function test_refundOnlyAfterFinishOrDeadline_andKeepsCommitted() public {
        openJob(JOB, 100);
        bytes32[4] memory l = leaves(10, 20, 0, 0);
        vm.prank(coordinator);
        market.postRound(JOB, 1, keccak256("m1"), root4(l), 30);
        vm.prank(builder);
        vm.expectRevert(
            abi.encodeWithSelector(Marketplace.NotRefundable.selector, JOB, Marketplace.JobStatus.Open, block.timestamp + 30 days)
        );
        market.refund(JOB);
        vm.warp(block.timestamp + 30 days + 1);
        vm.prank(builder);
        market.refund(JOB);
        assertEq(token.balanceOf(builder), 70, "uncommitted budget returned");
        // committed payouts are still claimable after the refund
        market.claim(JOB, P2, 20, proof4(l, 1));
        assertEq(market.unwithdrawn(JOB, P2), 20, "claim after refund");
        vm.prank(P2);
        market.withdraw(_one(JOB));
        assertEq(token.balanceOf(P2), 20, "withdrawn after refund");
        assertEq(token.balanceOf(address(market)), 10, "100 in, 70 refunded, 20 withdrawn: the committed 10 still unclaimed");
        vm.prank(coordinator);
        vm.expectRevert(abi.encodeWithSelector(Marketplace.JobNotOpen.selector, JOB, Marketplace.JobStatus.Closed));
        market.postRound(JOB, 2, keccak256("m2"), root4(l), 30);
    }

    // ------------------------------------------------------------ rounds and claims

    function test_duplicateRoundPostReverts() public {
        openJob(JOB, 100);
        vm.startPrank(coordinator);
        market.postRound(JOB, 1, keccak256("m1"), keccak256("r1"), 10);
        vm.expectRevert(abi.encodeWithSelector(Marketplace.RoundAlreadyPosted.selector, JOB, uint32(1)));
        market.postRound(JOB, 1, keccak256("m1"), keccak256("r1"), 10);
        vm.expectRevert(abi.encodeWithSelector(Marketplace.RoundOutOfOrder.selector, JOB, uint32(2), uint32(3)));
        market.postRound(JOB, 3, keccak256("m3"), keccak256("r3"), 10);
        vm.expectRevert(abi.encodeWithSelector(Marketplace.PayoutsDecrease.selector, JOB, 10, 9));
        market.postRound(JOB, 2, keccak256("m2"), keccak256("r2"), 9);
        vm.expectRevert(abi.encodeWithSelector(Marketplace.PayoutsExceedEscrow.selector, JOB, 100, 101));
        market.postRound(JOB, 2, keccak256("m2"), keccak256("r2"), 101);
        vm.expectEmit(true, true, false, true);
        emit Marketplace.RoundPosted(JOB, 2, keccak256("m2"), keccak256("r2"), 50);
        market.postRound(JOB, 2, keccak256("m2"), keccak256("r2"), 50);
        vm.stopPrank();
    }

    function test_claimPaysDifferenceAndNeverTwice() public {
        openJob(JOB, 1000);
        bytes32[4] memory r1 = leaves(10, 20, 30, 40);
        vm.prank(coordinator);
        market.postRound(JOB, 1, keccak256("m1"), root4(r1), 100);
        market.claim(JOB, P1, 10, proof4(r1, 0));
        vm.expectRevert(abi.encodeWithSelector(Marketplace.NothingToClaim.selector, JOB, P1, 10));
        market.claim(JOB, P1, 10, proof4(r1, 0));

        bytes32[4] memory r2 = leaves(15, 20, 90, 40);
        vm.prank(coordinator);
        market.postRound(JOB, 2, keccak256("m2"), root4(r2), 165);
        // the old root's proof no longer works
        vm.expectRevert(abi.encodeWithSelector(Marketplace.InvalidProof.selector, JOB, P3, 30));
        market.claim(JOB, P3, 30, proof4(r1, 2));
        vm.expectEmit(true, true, false, true);
        emit Marketplace.Claimed(JOB, P1, 5, 15);
        market.claim(JOB, P1, 15, proof4(r2, 0));
        market.claim(JOB, P3, 90, proof4(r2, 2));
        assertEq(market.unwithdrawn(JOB, P1), 15, "P1 total");
        assertEq(market.unwithdrawn(JOB, P3), 90, "P3 got both rounds in one claim");
        assertEq(token.balanceOf(P3), 0, "a claim books; the wallet is paid by withdraw");
        vm.expectEmit(true, true, false, true);
        emit Marketplace.Withdrawn(JOB, P3, 90);
        vm.prank(P3);
        market.withdraw(_one(JOB));
        assertEq(token.balanceOf(P3), 90, "P3 withdrew");
        assertEq(market.unwithdrawn(JOB, P3), 0, "nothing left");
        assertEq(market.claimed(JOB, P3), 90, "the claim record stays");
        vm.prank(P3);
        vm.expectRevert(abi.encodeWithSelector(Marketplace.NothingToWithdraw.selector, P3));
        market.withdraw(_one(JOB));
        // a later claim books only the new difference
        bytes32[4] memory r3 = leaves(15, 20, 100, 40);
        vm.prank(coordinator);
        market.postRound(JOB, 3, keccak256("m3"), root4(r3), 175);
        market.claim(JOB, P3, 100, proof4(r3, 2));
        assertEq(market.unwithdrawn(JOB, P3), 10, "only the new 10");
    }

    /// Several jobs leave in one transfer; a job listed twice, or one with nothing booked, adds nothing.
    function test_withdrawPaysManyJobsInOneTransfer() public {
        bytes32 job2 = keccak256("job-2");
        bytes32 job3 = keccak256("job-3");
        openJob(JOB, 1000);
        openJob(job2, 1000);
        openJob(job3, 1000);
        bytes32[4] memory l = leaves(10, 20, 30, 40);
        vm.startPrank(coordinator);
        market.postRound(JOB, 1, keccak256("m1"), root4(l), 100);
        market.postRound(job2, 1, keccak256("m1"), root4(l), 100);
        market.postRound(job3, 1, keccak256("m1"), root4(l), 100);
        vm.stopPrank();
        market.claim(JOB, P1, 10, proof4(l, 0));
        market.claim(job2, P1, 10, proof4(l, 0));
        market.claim(job3, P2, 20, proof4(l, 1));
        bytes32[] memory ids = new bytes32[](4);
        ids[0] = JOB;
        ids[1] = job2;
        ids[2] = JOB;
        ids[3] = job3;
        vm.prank(P1);
        market.withdraw(ids);
        assertEq(token.balanceOf(P1), 20, "two jobs, one transfer, the duplicate adds nothing");
        assertEq(market.unwithdrawn(job3, P2), 20, "another account's booking is untouched");
        vm.prank(P1);
        vm.expectRevert(abi.encodeWithSelector(Marketplace.NothingToWithdraw.selector, P1));
        market.withdraw(ids);
        vm.prank(P1);
        vm.expectRevert(abi.encodeWithSelector(Marketplace.NothingToWithdraw.selector, P1));
        market.withdraw(new bytes32[](0));
    }

    function _one(bytes32 id) internal pure returns (bytes32[] memory ids) {
        ids = new bytes32[](1);
        ids[0] = id;
    }

    function test_noClaimBeyondPostedRoot() public {
        openJob(JOB, 1000);
        bytes32[4] memory r1 = leaves(10, 20, 30, 40);
        vm.prank(coordinator);
        market.postRound(JOB, 1, keccak256("m1"), root4(r1), 100);
        vm.expectRevert(abi.encodeWithSelector(Marketplace.InvalidProof.selector, JOB, P1, 11));
        market.claim(JOB, P1, 11, proof4(r1, 0));
        vm.expectRevert(abi.encodeWithSelector(Marketplace.InvalidProof.selector, JOB, P2, 10));
        market.claim(JOB, P2, 10, proof4(r1, 0));
        vm.expectRevert(abi.encodeWithSelector(Marketplace.NoRoundPosted.selector, keccak256("other")));
        market.claim(keccak256("other"), P1, 10, proof4(r1, 0));
    }

    /// One claim covers any number of rounds: 50 rounds posted, one proof of the latest cumulative.
    function test_oneClaimCoversFiftyRounds() public {
        openJob(JOB, 1_000_000);
        bytes32[4] memory l;
        for (uint32 r = 1; r <= 50; r++) {
            l = leaves(r * 10, r * 20, r * 30, r * 40);
            vm.prank(coordinator);
            market.postRound(JOB, r, keccak256(abi.encode(r)), root4(l), uint256(r) * 100);
        }
        market.claim(JOB, P4, 2000, proof4(l, 3));
        assertEq(market.unwithdrawn(JOB, P4), 2000, "fifty rounds in one claim");
    }

    function testFuzz_claimsSumToLatestCumulative(uint96 a, uint96 b, uint96 c) public {
        uint256 x = bound(a, 1, 1e27);
        uint256 y = bound(b, x + 1, 2e27);
        uint256 z = bound(c, y + 1, 3e27);
        openJob(JOB, 4e27);
        uint256[3] memory cum = [x, y, z];
        uint256 paid;
        for (uint32 r = 0; r < 3; r++) {
            bytes32[4] memory l = leaves(cum[r], 1, 1, 1);
            vm.prank(coordinator);
            market.postRound(JOB, r + 1, bytes32(uint256(r)), root4(l), cum[r] + 3);
            if (r != 1) {
                market.claim(JOB, P1, cum[r], proof4(l, 0));
            }
            paid = market.unwithdrawn(JOB, P1);
            assertLe(paid, cum[r], "never beyond the root");
        }
        assertEq(paid, z, "all paid once");
        assertEq(market.claimed(JOB, P1), z, "claimed");
    }

    // ------------------------------------------------------------ bonds and slashing

    function test_unbondingDelayEnforced() public {
        fund(P1, 100);
        vm.startPrank(P1);
        market.bond(100);
        market.requestUnbond(60);
        vm.expectRevert(abi.encodeWithSelector(Marketplace.StillUnbonding.selector, P1, block.timestamp + DELAY));
        market.withdrawUnbonded();
        vm.warp(block.timestamp + DELAY - 1);
        vm.expectRevert(abi.encodeWithSelector(Marketplace.StillUnbonding.selector, P1, block.timestamp + 1));
        market.withdrawUnbonded();
        vm.warp(block.timestamp + 1);
        market.withdrawUnbonded();
        vm.expectRevert(abi.encodeWithSelector(Marketplace.NothingUnbonding.selector, P1));
        market.withdrawUnbonded();
        vm.expectRevert(abi.encodeWithSelector(Marketplace.InsufficientBond.selector, P1, 40, 41));
        market.requestUnbond(41);
        vm.stopPrank();
        assertEq(token.balanceOf(P1), 60, "withdrawn after the delay");
        assertEq(market.totalBonded(), 40, "rest stays bonded");
    }

    function test_slashSplitsBetweenEscrowAndTreasury() public {
        openJob(JOB, 100);
        fund(P1, 100);
        vm.prank(P1);
        market.bond(100);
        vm.prank(P1);
        market.requestUnbond(30); // unbonding stake is still slashable
        vm.expectEmit(true, true, false, true);
        emit Marketplace.Slashed(P1, JOB, keccak256("evidence"), 80, 40, 40);
        vm.prank(verifier);
        market.slash(P1, 80, JOB, keccak256("evidence"));
        Marketplace.Bond memory b = market.bondOf(P1);
        assertEq(b.bonded, 0, "bonded first");
        assertEq(b.unbonding, 20, "then unbonding");
        assertEq(token.balanceOf(treasury), 40, "treasury share");
        assertEq(market.getJob(JOB).deposited, 140, "compensation joins the builder's escrow");
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(Marketplace.SlashExceedsBond.selector, P1, 20, 21));
        market.slash(P1, 21, JOB, keccak256("evidence"));
        // no job (or a closed one): all to the treasury
        vm.prank(verifier);
        market.slash(P1, 20, bytes32(0), keccak256("evidence-2"));
        assertEq(token.balanceOf(treasury), 60, "all to treasury without a job");
    }

    function testFuzz_slashNeverExceedsBond(uint128 bonded, uint128 slashAmount) public {
        uint256 bnd = bound(bonded, 1, 1e30);
        uint256 amt = bound(slashAmount, 1, 2e30);
        fund(P1, bnd);
        vm.prank(P1);
        market.bond(bnd);
        vm.prank(verifier);
        if (amt > bnd) {
            vm.expectRevert(abi.encodeWithSelector(Marketplace.SlashExceedsBond.selector, P1, bnd, amt));
        }
        market.slash(P1, amt, bytes32(0), keccak256("e"));
        Marketplace.Bond memory b = market.bondOf(P1);
        assertEq(uint256(b.bonded) + (amt > bnd ? 0 : amt), bnd, "bond reduced by exactly the slash");
        assertEq(token.balanceOf(address(market)), b.bonded, "tokens follow the bond");
    }

    /// A slash in a job's name: compensationBps of it (fuzzed, 0-100 %) joins that job's escrow if the job
    /// is open or finished, capped by the job's room under MAX_JOB_AMOUNT (fuzzed down to zero); the rest
    /// goes to the treasury (all of it for a closed job). The two parts always add up to the slash, which
    /// never exceeds bonded + unbonding stake (bonded taken first); the compensation is the builder's by refund.
    struct SlashCase {
        uint256 bnd; // bonded by P1
        uint256 unb; // of which requested for unbonding (still slashable)
        uint256 amt; // slashed (beyond the stake too)
        uint256 cbps; // compensationBps
        uint256 state; // 0 open, 1 finished, 2 closed, 3 open with little room under MAX_JOB_AMOUNT
        uint256 dep; // the job's budget
        uint256 marketBefore;
        uint256 toEscrow; // expected
        uint256 toTreasury; // expected
    }

    function testFuzz_slashCompensatesTheJobsEscrow(
        uint128 bonded,
        uint128 unbonding,
        uint256 slashAmount,
        uint16 bps,
        uint256 budget,
        uint8 jobState
    ) public {
        SlashCase memory c;
        c.bnd = bound(bonded, 1, 1e30);
        c.unb = bound(unbonding, 0, c.bnd);
        c.amt = bound(slashAmount, 1, 2e30);
        c.cbps = bound(bps, 0, 10_000);
        c.state = jobState % 4;
        uint256 max = market.MAX_JOB_AMOUNT();
        // state 3: the room left under the cap is fuzzed around the compensation (half the time below it)
        uint256 room = c.amt * c.cbps / 10_000 * 2;
        c.dep = c.state == 3 ? max - bound(budget, 0, room < max ? room : max - 1) : bound(budget, 1, 1e28);
        _setUpSlashCase(c);

        if (c.amt > c.bnd) {
            vm.prank(verifier);
            vm.expectRevert(abi.encodeWithSelector(Marketplace.SlashExceedsBond.selector, P1, c.bnd, c.amt));
            market.slash(P1, c.amt, JOB, keccak256("e"));
            assertEq(token.balanceOf(address(market)), c.marketBefore, "a refused slash moves nothing");
            assertEq(market.totalBonded(), c.bnd, "a refused slash keeps the stake");
            return;
        }
        if (c.state != 2) {
            c.toEscrow = c.amt * c.cbps / 10_000;
            if (c.toEscrow > max - c.dep) c.toEscrow = max - c.dep;
        }
        c.toTreasury = c.amt - c.toEscrow;
        vm.expectEmit(true, true, false, true);
        emit Marketplace.Slashed(P1, JOB, keccak256("e"), c.amt, c.toEscrow, c.toTreasury);
        vm.prank(verifier);
        market.slash(P1, c.amt, JOB, keccak256("e"));
        _assertSlashCase(c);
    }

    function _setUpSlashCase(SlashCase memory c) internal {
        openJob(JOB, c.dep);
        vm.prank(admin);
        market.setCompensationBps(uint16(c.cbps));
        if (c.state == 1 || c.state == 2) {
            vm.prank(coordinator);
            market.finishJob(JOB);
        }
        if (c.state == 2) {
            vm.prank(builder);
            market.refund(JOB);
        }
        fund(P1, c.bnd);
        vm.startPrank(P1);
        market.bond(c.bnd);
        if (c.unb > 0) market.requestUnbond(c.unb);
        vm.stopPrank();
        c.marketBefore = token.balanceOf(address(market));
    }

    function _assertSlashCase(SlashCase memory c) internal {
        assertLe(c.amt, c.bnd, "never beyond the stake");
        assertEq(c.toEscrow + c.toTreasury, c.amt, "the split adds up to the slash");
        if (c.state == 2) assertEq(c.toEscrow, 0, "nothing to a closed job's escrow");
        assertEq(token.balanceOf(treasury), c.toTreasury, "treasury share");
        assertEq(market.getJob(JOB).deposited, c.dep + c.toEscrow, "compensation joins the escrow");
        assertLe(market.getJob(JOB).deposited, market.MAX_JOB_AMOUNT(), "escrow stays under MAX_JOB_AMOUNT");
        assertEq(token.balanceOf(address(market)), c.marketBefore - c.toTreasury, "only the treasury share leaves");
        Marketplace.Bond memory b = market.bondOf(P1);
        assertEq(uint256(b.bonded) + b.unbonding, c.bnd - c.amt, "stake reduced by exactly the slash");
        bool fromBonded = c.amt <= c.bnd - c.unb;
        assertEq(b.bonded, fromBonded ? c.bnd - c.unb - c.amt : 0, "bonded stake first");
        assertEq(b.unbonding, fromBonded ? c.unb : c.bnd - c.amt, "then unbonding stake");
        assertEq(market.totalBonded(), c.bnd - c.amt, "totalBonded follows");
        if (c.state == 2) return;
        if (c.state != 1) {
            vm.prank(coordinator);
            market.finishJob(JOB);
        }
        uint256 builderBefore = token.balanceOf(builder);
        vm.prank(builder);
        market.refund(JOB);
        assertEq(token.balanceOf(builder) - builderBefore, c.dep + c.toEscrow, "the builder gets the compensation back");
    }

    // ------------------------------------------------------------ roles

    /// Every role-gated entry point (postRound, finishJob: coordinator; slash: verifier; setTreasury,
    /// setUnbondingDelay, setCompensationBps, grantRole, revokeRole: admin; renounceRole: the holder
    /// only) refuses every caller without the role, with arguments that are otherwise valid, and changes
    /// nothing; then each one succeeds for the right role and has its effect (so a contract, or a test,
    /// that refused every caller would fail here).
    function test_everyPrivilegedCallRejectsTheWrongRole() public {
        openJob(JOB, 100);
        fund(P1, 50);
        vm.prank(P1);
        market.bond(50); // a real bond: the slashes below are valid but for the caller's role
        address intruder = address(0xBAD);
        bytes32 coord = market.COORDINATOR_ROLE();
        bytes32 verif = market.VERIFIER_ROLE();
        bytes32 adminRole = market.DEFAULT_ADMIN_ROLE();
        assertEq(market.getRoleAdmin(coord), adminRole, "the admin administers the coordinator role");
        assertEq(market.getRoleAdmin(verif), adminRole, "the admin administers the verifier role");
        assertEq(market.getRoleAdmin(adminRole), adminRole, "the admin administers itself");

        address[4] memory notCoordinator = [intruder, verifier, admin, builder];
        for (uint256 i = 0; i < notCoordinator.length; i++) {
            _expectUnauthorized(notCoordinator[i], coord);
            market.postRound(JOB, 1, keccak256("m"), keccak256("r"), 1);
            _expectUnauthorized(notCoordinator[i], coord);
            market.finishJob(JOB);
        }
        address[4] memory notVerifier = [intruder, coordinator, admin, builder];
        for (uint256 i = 0; i < notVerifier.length; i++) {
            _expectUnauthorized(notVerifier[i], verif);
            market.slash(P1, 1, JOB, keccak256("e"));
        }
        address[4] memory notAdmin = [intruder, coordinator, verifier, builder];
        for (uint256 i = 0; i < notAdmin.length; i++) {
            address a = notAdmin[i];
            _expectUnauthorized(a, adminRole);
            market.setTreasury(intruder);
            _expectUnauthorized(a, adminRole);
            market.setUnbondingDelay(0);
            _expectUnauthorized(a, adminRole);
            market.setCompensationBps(0);
            _expectUnauthorized(a, adminRole);
            market.grantRole(coord, a);
            _expectUnauthorized(a, adminRole);
            market.grantRole(verif, a);
            _expectUnauthorized(a, adminRole);
            market.grantRole(adminRole, a);
            _expectUnauthorized(a, adminRole);
            market.revokeRole(coord, coordinator);
            _expectUnauthorized(a, adminRole);
            market.revokeRole(verif, verifier);
            _expectUnauthorized(a, adminRole);
            market.revokeRole(adminRole, admin);
        }
        // renounceRole only ever drops the caller's own role: naming another holder fails for anyone, the admin included
        address[5] memory renouncers = [intruder, verifier, admin, builder, coordinator];
        for (uint256 i = 0; i < renouncers.length; i++) {
            address a = renouncers[i];
            if (a != coordinator) _expectBadConfirmation(a);
            if (a != coordinator) market.renounceRole(coord, coordinator);
            if (a != verifier) _expectBadConfirmation(a);
            if (a != verifier) market.renounceRole(verif, verifier);
            if (a != admin) _expectBadConfirmation(a);
            if (a != admin) market.renounceRole(adminRole, admin);
        }
        // none of it changed anything
        _assertRoles(coordinator, verifier, admin);
        address[5] memory everyone = [intruder, coordinator, verifier, admin, builder];
        for (uint256 i = 0; i < everyone.length; i++) {
            assertTrue(market.hasRole(coord, everyone[i]) == (everyone[i] == coordinator), "coordinator role unchanged");
            assertTrue(market.hasRole(verif, everyone[i]) == (everyone[i] == verifier), "verifier role unchanged");
            assertTrue(market.hasRole(adminRole, everyone[i]) == (everyone[i] == admin), "admin role unchanged");
        }
        assertEq(market.treasury(), treasury, "treasury unchanged");
        assertEq(market.unbondingDelay(), DELAY, "delay unchanged");
        assertEq(market.compensationBps(), COMP_BPS, "compensation unchanged");
        assertEq(market.getJob(JOB).lastRound, 0, "no round posted");
        assertTrue(market.getJob(JOB).status == Marketplace.JobStatus.Open, "job still open");
        assertEq(market.bondOf(P1).bonded, 50, "bond untouched");

        // the right roles pass, with their effect
        vm.prank(coordinator);
        market.postRound(JOB, 1, keccak256("m"), keccak256("r"), 1);
        assertEq(market.getJob(JOB).lastRound, 1, "coordinator posts");
        vm.prank(verifier);
        market.slash(P1, 10, JOB, keccak256("e"));
        assertEq(market.bondOf(P1).bonded, 40, "verifier slashes");
        vm.prank(coordinator);
        market.finishJob(JOB);
        assertTrue(market.getJob(JOB).status == Marketplace.JobStatus.Finished, "coordinator finishes");
        vm.startPrank(admin);
        market.setTreasury(address(0x7EA6));
        assertEq(market.treasury(), address(0x7EA6), "admin sets the treasury");
        market.setUnbondingDelay(1 days);
        assertEq(market.unbondingDelay(), 1 days, "admin sets the delay");
        market.setCompensationBps(10_000);
        assertEq(market.compensationBps(), 10_000, "admin sets the compensation");
        vm.expectRevert(abi.encodeWithSelector(Marketplace.BpsTooHigh.selector, 10_001));
        market.setCompensationBps(10_001); // past the role check, the value check
        market.grantRole(coord, P2);
        assertTrue(market.hasRole(coord, P2), "admin grants");
        market.revokeRole(coord, P2);
        assertTrue(!market.hasRole(coord, P2), "admin revokes");
        vm.stopPrank();
        _expectUnauthorized(P2, coord); // a revoked coordinator is refused at once
        market.postRound(JOB, 2, keccak256("m"), keccak256("r"), 1);
        vm.prank(verifier);
        market.renounceRole(verif, verifier);
        assertTrue(!market.hasRole(verif, verifier), "a holder renounces its own role");
        _expectUnauthorized(verifier, verif);
        market.slash(P1, 1, JOB, keccak256("e"));
    }

    function _assertRoles(address c, address v, address a) internal view {
        assertTrue(market.hasRole(market.COORDINATOR_ROLE(), c), "coordinator kept its role");
        assertTrue(market.hasRole(market.VERIFIER_ROLE(), v), "verifier kept its role");
        assertTrue(market.hasRole(market.DEFAULT_ADMIN_ROLE(), a), "admin kept its role");
    }

    function _expectBadConfirmation(address who) internal {
        vm.prank(who);
        vm.expectRevert(IAccessControl.AccessControlBadConfirmation.selector);
    }

    function _expectUnauthorized(address who, bytes32 role) internal {
        vm.prank(who);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, who, role));
    }

    // ------------------------------------------------------------ EIP-712

    function test_submissionSignatureRecoversTheWorker() public view {
        uint256 key = 0xA11CE5EC;
        address worker = vm.addr(key);
        Marketplace.Submission memory s =
            Marketplace.Submission(keccak256("task"), keccak256("update"), keccak256("proof"), 300, 42);
        bytes32 digest = market.submissionDigest(s);
        (uint8 v, bytes32 r, bytes32 sig) = vm.sign(key, digest);
        assertEq(market.submissionSigner(s, abi.encodePacked(r, sig, v)), worker, "signer");
        s.steps = 301;
        assertTrue(market.submissionSigner(s, abi.encodePacked(r, sig, v)) != worker, "tampered submission");
    }
}
