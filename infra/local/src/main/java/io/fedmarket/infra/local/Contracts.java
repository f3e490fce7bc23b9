package io.fedmarket.infra.local;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedmarket.chain.MarketplaceDeployer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** The marketplace contracts on the local chain: deployed once, reused while the chain (anvil --state) keeps them. */
final class Contracts {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Contracts() {
    }

    static Map<String, String> deployedOrDeploy(String rpcUrl, Path file) {
        try {
            if (Files.isRegularFile(file)) {
                Map<String, String> known = JSON.readValue(file.toFile(), new TypeReference<>() { });
                String market = known.get(MarketplaceDeployer.MARKETPLACE);
                if (market != null && hasCode(rpcUrl, market)) {
                    return known;
                }
            }
            Map<String, String> fresh = MarketplaceDeployer.deployLocal(rpcUrl);
            JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), fresh);
            return fresh;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write " + file, e);
        }
    }

    static boolean hasCode(String rpcUrl, String address) {
        try {
            String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(rpcUrl))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getCode\",\"params\":[\""
                            + address + "\",\"latest\"]}")).build(), HttpResponse.BodyHandlers.ofString()).body();
            return !body.contains("\"result\":\"0x\"");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
