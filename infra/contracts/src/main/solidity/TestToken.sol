// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice An ERC-20 with open minting, for local chains and tests only: never deploy it to a real network.
contract TestToken is ERC20 {
    constructor() ERC20("FedMarket Test USD", "fUSD") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
