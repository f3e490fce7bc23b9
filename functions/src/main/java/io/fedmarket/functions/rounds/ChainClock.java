package io.fedmarket.functions.rounds;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.methods.response.EthBlock;
import org.web3j.protocol.http.HttpService;

import java.io.IOException;
import java.math.BigInteger;
import java.util.Optional;

/**
 * The chain as a source of randomness nobody controls: the verify function records the block number at which a
 * submission was recorded and draws its segments from the hash of a later block, which the worker could not know
 * when it signed. Read-only (no key).
 */
@ApplicationScoped
public class ChainClock {
    @ConfigProperty(name = "fedmarket.rpc-url")
    String rpcUrl;

    private volatile Web3j web3j;

    Web3j web3j() {
        Web3j w = web3j;
        if (w == null) {
            synchronized (this) {
                if (web3j == null) {
                    web3j = Web3j.build(new HttpService(rpcUrl));
                }
                w = web3j;
            }
        }
        return w;
    }

    /** The latest block number; an unreachable node is an IllegalStateException (the record is retried). */
    public long latestBlock() {
        try {
            return web3j().ethBlockNumber().send().getBlockNumber().longValueExact();
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("the chain node at " + rpcUrl + " does not answer eth_blockNumber: " + e.getMessage(), e);
        }
    }

    /** The hash of block {@code number}, or empty when it is not mined yet. */
    public Optional<String> blockHash(long number) {
        try {
            EthBlock b = web3j().ethGetBlockByNumber(DefaultBlockParameter.valueOf(BigInteger.valueOf(number)), false).send();
            if (b.hasError()) {
                throw new IllegalStateException("eth_getBlockByNumber(" + number + "): " + b.getError().getMessage());
            }
            return b.getBlock() == null ? Optional.empty() : Optional.ofNullable(b.getBlock().getHash());
        } catch (IOException e) {
            throw new IllegalStateException("the chain node at " + rpcUrl + " does not answer eth_getBlockByNumber: " + e.getMessage(), e);
        }
    }

    /** The latest block's hash (for tests and logs). */
    public String latestHash() {
        try {
            return web3j().ethGetBlockByNumber(DefaultBlockParameterName.LATEST, false).send().getBlock().getHash();
        } catch (IOException e) {
            throw new IllegalStateException("the chain node at " + rpcUrl + " does not answer: " + e.getMessage(), e);
        }
    }

    @PreDestroy
    void close() {
        if (web3j != null) {
            web3j.shutdown();
        }
    }
}
