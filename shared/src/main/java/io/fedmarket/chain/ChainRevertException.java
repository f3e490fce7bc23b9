package io.fedmarket.chain;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The contract refused a call: {@link #errorName()} is the Solidity custom error (e.g.
 * {@code RoundAlreadyPosted}), {@code Error} for a {@code require} string, {@code Panic} for an
 * assertion/overflow, or {@code unknown} when the revert data matches nothing in the ABI.
 */
public final class ChainRevertException extends ChainException {
    private final String operation;
    private final String errorName;
    private final Map<String, Object> args;
    private final String revertData;

    public ChainRevertException(String operation, String errorName, Map<String, Object> args, String revertData) {
        super(operation + " reverted: " + errorName + render(args) + hint(errorName));
        this.operation = operation;
        this.errorName = errorName;
        this.args = Map.copyOf(new LinkedHashMap<>(args));
        this.revertData = revertData;
    }

    private static String render(Map<String, Object> args) {
        StringBuilder sb = new StringBuilder("(");
        args.forEach((k, v) -> sb.append(sb.length() > 1 ? ", " : "").append(k).append('=').append(v));
        return sb.append(')').toString();
    }

    private static String hint(String errorName) {
        return switch (errorName) {
            case "AccessControlUnauthorizedAccount" -> ": the sending key lacks the role; grant it with grantRole from the admin key";
            case "ERC20InsufficientAllowance" -> ": approve the Marketplace for at least this amount first";
            case "ERC20InsufficientBalance" -> ": the sender does not hold enough tokens";
            case "RoundAlreadyPosted" -> ": each round is posted once; post the next round number";
            case "InvalidProof" -> ": the proof does not match the job's latest payout root; rebuild it from the latest round's tree";
            case "NothingToClaim" -> ": everything up to this cumulative amount was already paid";
            case "StillUnbonding" -> ": wait until unlockAt (epoch seconds) before withdrawing";
            default -> "";
        };
    }

    public String operation() {
        return operation;
    }

    public String errorName() {
        return errorName;
    }

    public Map<String, Object> args() {
        return args;
    }

    /** The raw revert data ({@code 0x…}), for logs. */
    public String revertData() {
        return revertData;
    }
}
