package io.fedmarket.functions.http;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logmanager.ExtFormatter;
import org.jboss.logmanager.ExtHandler;
import org.jboss.logmanager.ExtLogRecord;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import java.util.TreeMap;
import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.LogManager;

/**
 * One JSON object per log line (CloudWatch Logs Insights reads the fields): time, level, logger,
 * message, and the MDC correlation ids (function, requestId, caller, intentId, jobId, round, taskId).
 */
public final class JsonLogFormatter extends ExtFormatter {

    @Singleton
    public static class Installer {
        @ConfigProperty(name = "fedmarket.log.json", defaultValue = "true")
        boolean json;

        void onStart(@Observes StartupEvent ev) {
            if (json) {
                install(LogManager.getLogManager().getLogger("").getHandlers());
            }
        }

        private static void install(Handler[] handlers) {
            for (Handler h : handlers) {
                if (h instanceof ExtHandler ext) {
                    install(ext.getHandlers());
                }
                if (h instanceof org.jboss.logmanager.handlers.ConsoleHandler || h instanceof ConsoleHandler) {
                    h.setFormatter(new JsonLogFormatter());
                }
            }
        }
    }

    @Override
    public String format(ExtLogRecord r) {
        StringBuilder b = new StringBuilder(256).append('{');
        field(b, "time", r.getInstant().toString()).append(',');
        field(b, "level", r.getLevel().getName()).append(',');
        field(b, "logger", r.getLoggerName()).append(',');
        field(b, "message", formatMessage(r));
        Map<String, String> mdc = new TreeMap<>(r.getMdcCopy());
        for (Map.Entry<String, String> e : mdc.entrySet()) {
            b.append(',');
            field(b, e.getKey(), e.getValue());
        }
        if (r.getThrown() != null) {
            StringWriter sw = new StringWriter();
            r.getThrown().printStackTrace(new PrintWriter(sw));
            b.append(',');
            field(b, "exception", sw.toString());
        }
        return b.append("}\n").toString();
    }

    private static StringBuilder field(StringBuilder b, String k, String v) {
        quote(b, k).append(':');
        return v == null ? b.append("null") : quote(b, v);
    }

    private static StringBuilder quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"');
    }
}
