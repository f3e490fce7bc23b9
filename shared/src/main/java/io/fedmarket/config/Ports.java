package io.fedmarket.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Port helpers for the local stack: everything binds to 127.0.0.1 only. */
public final class Ports {
    private Ports() {
    }

    /** Thrown when a configured port is taken; the message names the port and the option to change it. */
    public static final class PortInUseException extends IllegalStateException {
        public PortInUseException(String component, int port, String option) {
            super("port " + port + " for " + component + " on 127.0.0.1 is already in use: stop what holds it or choose another with "
                    + option + " <port>");
        }
    }

    /** A port that is free now (0 asks the OS). */
    public static int free() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on 127.0.0.1", e);
        }
    }

    /** Returns {@code port} if free (or a free one when 0), else a clear {@link PortInUseException}. */
    public static int claim(String component, int port, String option) {
        if (port == 0) {
            return free();
        }
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            return port;
        } catch (IOException e) {
            throw new PortInUseException(component, port, option);
        }
    }

    /** True when something answers TCP on 127.0.0.1:port. */
    public static boolean answers(int port, int timeoutMillis) {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), timeoutMillis);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
