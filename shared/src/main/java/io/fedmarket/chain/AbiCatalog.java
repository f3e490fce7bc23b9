package io.fedmarket.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedmarket.crypto.Hashes;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Type;
import org.web3j.protocol.core.methods.response.Log;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Custom errors and events of the compiled contracts, read from the ABI JSON the contracts build puts
 * on the classpath ({@code io/fedmarket/contracts/Name.json}), to decode revert data and logs
 * generically by selector / topic.
 */
public final class AbiCatalog {
    record Param(String name, String type, boolean indexed) {
    }

    record Entry(String name, List<Param> params) {
    }

    private final Map<String, Entry> errors = new HashMap<>();
    private final Map<String, Entry> events = new HashMap<>();

    private static final AbiCatalog DEFAULT = new AbiCatalog(List.of("Marketplace", "TestToken"));

    public static AbiCatalog defaultCatalog() {
        return DEFAULT;
    }

    AbiCatalog(List<String> contracts) {
        ObjectMapper om = new ObjectMapper();
        for (String c : contracts) {
            String res = "/io/fedmarket/contracts/" + c + ".json";
            try (InputStream in = AbiCatalog.class.getResourceAsStream(res)) {
                if (in == null) {
                    throw new IllegalStateException("missing " + res + " on the classpath: build the contracts module (./mvnw -pl infra/contracts package)");
                }
                for (JsonNode item : om.readTree(in).get("abi")) {
                    String kind = item.path("type").asText();
                    if (!kind.equals("error") && !kind.equals("event")) {
                        continue;
                    }
                    List<Param> params = new ArrayList<>();
                    for (JsonNode in2 : item.path("inputs")) {
                        if (in2.path("type").asText().startsWith("tuple")) {
                            params = null;
                            break;
                        }
                        params.add(new Param(in2.path("name").asText(), in2.path("type").asText(), in2.path("indexed").asBoolean(false)));
                    }
                    if (params == null) {
                        continue;
                    }
                    String sig = item.get("name").asText() + "(" + String.join(",", params.stream().map(Param::type).toList()) + ")";
                    byte[] h = Hashes.keccak256(sig.getBytes(StandardCharsets.US_ASCII));
                    Entry e = new Entry(item.get("name").asText(), List.copyOf(params));
                    if (kind.equals("error")) {
                        errors.putIfAbsent(Hashes.hex(h).substring(0, 10), e);
                    } else {
                        events.putIfAbsent(Hashes.hex(h), e);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + res, e);
            }
        }
    }

    /** Decodes revert data ({@code 0x…}) into a clear exception. */
    public ChainRevertException revert(String operation, String data) {
        String d = data == null ? "0x" : data.toLowerCase();
        if (d.length() < 10) {
            return new ChainRevertException(operation, "unknown", Map.of("reason", "no revert data (out of gas, or a plain revert())"), d);
        }
        String selector = d.substring(0, 10);
        String body = "0x" + d.substring(10);
        if (selector.equals("0x08c379a0")) {
            List<Type> v = decode(body, List.of(new Param("reason", "string", false)));
            return new ChainRevertException(operation, "Error", Map.of("reason", v.get(0).getValue()), d);
        }
        if (selector.equals("0x4e487b71")) {
            List<Type> v = decode(body, List.of(new Param("code", "uint256", false)));
            return new ChainRevertException(operation, "Panic", Map.of("code", "0x" + ((BigInteger) v.get(0).getValue()).toString(16)), d);
        }
        Entry e = errors.get(selector);
        if (e == null) {
            return new ChainRevertException(operation, "unknown", Map.of("selector", selector), d);
        }
        List<Type> values = decode(body, e.params());
        Map<String, Object> args = new LinkedHashMap<>();
        for (int i = 0; i < e.params().size(); i++) {
            args.put(e.params().get(i).name(), plain(values.get(i)));
        }
        return new ChainRevertException(operation, e.name(), args, d);
    }

    /** Decodes a log of a known event: its name and arguments by name (addresses lower case, bytes32 as hex, ints as BigInteger). */
    public Optional<Map.Entry<String, Map<String, Object>>> decodeLog(Log log) {
        if (log.getTopics() == null || log.getTopics().isEmpty()) {
            return Optional.empty();
        }
        Entry e = events.get(log.getTopics().get(0).toLowerCase());
        if (e == null) {
            return Optional.empty();
        }
        List<Param> nonIndexed = e.params().stream().filter(p -> !p.indexed()).toList();
        List<Type> data = decode(log.getData(), nonIndexed);
        Map<String, Object> args = new LinkedHashMap<>();
        int topic = 1;
        int di = 0;
        for (Param p : e.params()) {
            if (p.indexed()) {
                Type t = FunctionReturnDecoder.decodeIndexedValue(log.getTopics().get(topic++), typeRef(p));
                args.put(p.name(), plain(t));
            } else {
                args.put(p.name(), plain(data.get(di++)));
            }
        }
        return Optional.of(Map.entry(e.name(), args));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static List<Type> decode(String hex, List<Param> params) {
        List<TypeReference<Type>> refs = new ArrayList<>();
        for (Param p : params) {
            refs.add((TypeReference) typeRef(p));
        }
        return FunctionReturnDecoder.decode(hex, refs);
    }

    @SuppressWarnings("rawtypes")
    private static TypeReference typeRef(Param p) {
        try {
            return TypeReference.makeTypeReference(p.type(), p.indexed(), false);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("unsupported ABI type " + p.type() + " for " + p.name(), e);
        }
    }

    private static Object plain(Type t) {
        Object v = t.getValue();
        if (t instanceof Address a) {
            return a.getValue().toLowerCase();
        }
        if (v instanceof byte[] b) {
            return Hashes.hex(b);
        }
        return v;
    }
}
