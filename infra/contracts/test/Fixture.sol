// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {TestBase} from "./Vm.sol";
import {Marketplace} from "../src/main/solidity/Marketplace.sol";
import {TestToken} from "../src/main/solidity/TestToken.sol";

/// Deploys the marketplace and builds small payout trees the way the Java PayoutTree does
/// (leaf = keccak256(bytes.concat(keccak256(abi.encode(account, cumulative)))), sorted-pair hashing).
abstract contract Fixture is TestBase {
    Marketplace internal market;
    TestToken internal token;
    address internal admin = address(0xA11CE);
    address internal coordinator = address(0xC00D);
    address internal verifier = address(0x7E41F1E4);
    address internal treasury = address(0x7EA5);
    address internal builder = address(0xB0B);
    uint64 internal constant DELAY = 7 days;
    uint16 internal constant COMP_BPS = 5000;

    function deploy() internal {
        vm.warp(1_700_000_000);
        token = new TestToken();
        market = new Marketplace(token, admin, treasury, DELAY, COMP_BPS);
        vm.startPrank(admin);
        market.grantRole(market.COORDINATOR_ROLE(), coordinator);
        market.grantRole(market.VERIFIER_ROLE(), verifier);
        vm.stopPrank();
    }

    function fund(address who, uint256 amount) internal {
        token.mint(who, amount);
        vm.prank(who);
        token.approve(address(market), type(uint256).max);
    }

    function openJob(bytes32 jobId, uint256 amount) internal {
        fund(builder, amount);
        vm.prank(builder);
        market.openJob(jobId, amount, block.timestamp + 30 days);
    }

    function leaf(address account, uint256 cumulative) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, cumulative))));
    }

    function hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    /// Root over 4 leaves: h(h(l0,l1), h(l2,l3)).
    function root4(bytes32[4] memory l) internal pure returns (bytes32) {
        return hashPair(hashPair(l[0], l[1]), hashPair(l[2], l[3]));
    }

    function proof4(bytes32[4] memory l, uint256 i) internal pure returns (bytes32[] memory p) {
        p = new bytes32[](2);
        p[0] = l[i ^ 1];
        p[1] = i < 2 ? hashPair(l[2], l[3]) : hashPair(l[0], l[1]);
    }
}
