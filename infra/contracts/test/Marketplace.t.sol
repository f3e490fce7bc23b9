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

    // ------------------------------------------------------------ roles

    function test_everyPrivilegedCallRejectsTheWrongRole() public {
        openJob(JOB, 100);
        address intruder = address(0xBAD);
        bytes32 coord = market.COORDINATOR_ROLE();
        bytes32 verif = market.VERIFIER_ROLE();
        bytes32 adminRole = market.DEFAULT_ADMIN_ROLE();
        address[3] memory wrong = [intruder, verifier, builder];
        for (uint256 i = 0; i < wrong.length; i++) {
            _expectUnauthorized(wrong[i], coord);
            market.postRound(JOB, 1, keccak256("m"), keccak256("r"), 1);
            _expectUnauthorized(wrong[i], coord);
            market.finishJob(JOB);
        }
        address[3] memory notVerifier = [intruder, coordinator, admin];
        for (uint256 i = 0; i < notVerifier.length; i++) {
            _expectUnauthorized(notVerifier[i], verif);
            market.slash(builder, 1, JOB, keccak256("e"));
        }
        address[3] memory notAdmin = [intruder, coordinator, verifier];
        for (uint256 i = 0; i < notAdmin.length; i++) {
            _expectUnauthorized(notAdmin[i], adminRole);
            market.setTreasury(intruder);
            _expectUnauthorized(notAdmin[i], adminRole);
            market.setUnbondingDelay(0);
            _expectUnauthorized(notAdmin[i], adminRole);
            market.setCompensationBps(0);
            _expectUnauthorized(notAdmin[i], adminRole);
            market.grantRole(coord, notAdmin[i]);
        }
        // the right roles pass
        vm.prank(coordinator);
        market.postRound(JOB, 1, keccak256("m"), keccak256("r"), 1);
        vm.prank(admin);
        market.setCompensationBps(10_000);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(Marketplace.BpsTooHigh.selector, 10_001));
        market.setCompensationBps(10_001);
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
