package io.fedmarket.infra.local.lambda;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * What AWS's Java managed runtime does inside a function process, for the packaged function.zip run
 * locally: load the handler named in functions.json ({@code Class::method}, a RequestStreamHandler
 * method), then loop on the Runtime API: GET next invocation, call the handler with the event and a
 * Context, POST the response (or the error document). Quarkus boots when the handler class is
 * created, exactly as on AWS (its own poll loop runs only in native builds). Uses only java.base and
 * reflection, so it can sit on the function's class path without adding any library to it.
 *
 * <pre>java -cp APP:APP/lib/*:infra-local.jar io.fedmarket.infra.local.lambda.LambdaJavaRuntime io.quarkus.funqy.lambda.FunqyStreamHandler::handleRequest</pre>
 */
public final class LambdaJavaRuntime {
    private LambdaJavaRuntime() {
    }

    public static void main(String[] args) throws Exception {
        String api = System.getenv("AWS_LAMBDA_RUNTIME_API");
        if (api == null || args.length != 1 || !args[0].contains("::")) {
            System.err.println("usage: AWS_LAMBDA_RUNTIME_API=host:port[/prefix] LambdaJavaRuntime Class::method");
            System.exit(2);
        }
        String base = "http://" + api + "/2018-06-01/runtime/";
        String[] spec = args[0].split("::");
        Object handler;
        Method method;
        Class<?> contextType;
        try {
            ClassLoader cl = Thread.currentThread().getContextClassLoader();
            contextType = Class.forName("com.amazonaws.services.lambda.runtime.Context", false, cl);
            Class<?> type = Class.forName(spec[0], true, cl);
            handler = type.getDeclaredConstructor().newInstance();
            method = type.getMethod(spec[1], InputStream.class, OutputStream.class, contextType);
        } catch (Throwable t) {
            Throwable cause = t instanceof InvocationTargetException ite ? ite.getCause() : t;
            post(base + "init/error", error(cause));
            cause.printStackTrace();
            System.exit(1);
            return;
        }
        String function = System.getenv().getOrDefault("AWS_LAMBDA_FUNCTION_NAME", "function");
        int memory = Integer.parseInt(System.getenv().getOrDefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"));
        while (true) {
            HttpURLConnection next = (HttpURLConnection) URI.create(base + "invocation/next").toURL().openConnection();
            next.setReadTimeout(0);
            byte[] event;
            try (InputStream in = next.getInputStream()) {
                event = in.readAllBytes();
            }
            String requestId = next.getHeaderField("Lambda-Runtime-Aws-Request-Id");
            long deadline = Long.parseLong(next.getHeaderField("Lambda-Runtime-Deadline-Ms"));
            String arn = next.getHeaderField("Lambda-Runtime-Invoked-Function-Arn");
            Object context = Proxy.newProxyInstance(contextType.getClassLoader(), new Class<?>[] {contextType}, (p, m, a) -> switch (m.getName()) {
                case "getAwsRequestId" -> requestId;
                case "getFunctionName" -> function;
                case "getFunctionVersion" -> "$LATEST";
                case "getInvokedFunctionArn" -> arn;
                case "getLogGroupName" -> "/aws/lambda/" + function;
                case "getLogStreamName" -> "local";
                case "getRemainingTimeInMillis" -> (int) Math.max(0, deadline - System.currentTimeMillis());
                case "getMemoryLimitInMB" -> memory;
                case "getLogger" -> logger(contextType.getClassLoader());
                case "toString" -> "LocalContext[" + requestId + "]";
                case "hashCode" -> System.identityHashCode(p);
                case "equals" -> p == a[0];
                default -> null;
            });
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                method.invoke(handler, new ByteArrayInputStream(event), out, context);
                post(base + "invocation/" + requestId + "/response", out.toByteArray());
            } catch (InvocationTargetException e) {
                post(base + "invocation/" + requestId + "/error", error(e.getCause()));
            } catch (Throwable t) {
                post(base + "invocation/" + requestId + "/error", error(t));
            }
        }
    }

    private static Object logger(ClassLoader cl) throws ClassNotFoundException {
        Class<?> type = Class.forName("com.amazonaws.services.lambda.runtime.LambdaLogger", false, cl);
        return Proxy.newProxyInstance(cl, new Class<?>[] {type}, (p, m, a) -> {
            if (m.getName().equals("log") && a != null && a.length > 0) {
                System.out.println(a[0] instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(a[0]));
            }
            return null;
        });
    }

    private static byte[] error(Throwable t) {
        StringWriter sw = new StringWriter();
        t.printStackTrace(new PrintWriter(sw));
        String msg = String.valueOf(t.getMessage()).replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
        return ("{\"errorMessage\":\"" + msg + "\",\"errorType\":\"" + t.getClass().getName() + "\"}").getBytes(StandardCharsets.UTF_8);
    }

    private static void post(String url, byte[] body) throws Exception {
        HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
        c.setRequestMethod("POST");
        c.setDoOutput(true);
        c.setRequestProperty("Content-Type", "application/json");
        try (OutputStream o = c.getOutputStream()) {
            o.write(body);
        }
        c.getResponseCode();
        c.disconnect();
    }
}
