package io.fedmarket.fl.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A TorchScript file ({@code torch.jit.script(m).save(f)} / {@code torch.jit.trace}) read in plain Java, without torch: the zip
 * archive's {@code data.pkl} (the module object, pickle protocol 2) gives every tensor's name, shape, dtype and storage, the
 * {@code code/} files give which tensors are parameters ({@code __parameters__}) and which buffers ({@code __buffers__}, e.g. a
 * batch norm's running statistics) and which ops the graph calls; {@code constants.pkl} the graph's constant tensors. Anything else
 * in a pickle (a global other than a TorchScript class, a tensor rebuild or an ordered dict) is refused: the archive is data, never
 * code that runs here.
 *
 * <p>Used by the marketplace's functions to check an upload ({@link #check}), by every side to know the model's layout (names and
 * shapes in archive order, parameters and buffers both) and its round-0 state (the file's own weights: {@link #state()}), and by the
 * worker to write the archive back with another state ({@link #withState}).
 */
public final class TorchScriptArchive {
    /** Largest TorchScript file the marketplace takes. */
    public static final int MAX_BYTES = 4 * 1024 * 1024;

    /**
     * Ops whose result depends on a random generator (dropout in training mode, sampling, random initialisers): a model that calls
     * one cannot be re-executed bit for bit, so it is refused at upload.
     */
    public static final List<String> NON_DETERMINISTIC_OPS = List.of("dropout", "dropout_", "feature_dropout", "feature_dropout_",
            "alpha_dropout", "alpha_dropout_", "feature_alpha_dropout", "feature_alpha_dropout_", "native_dropout", "bernoulli",
            "bernoulli_", "rand", "rand_like", "randn", "randn_like", "randint", "randint_like", "randperm", "normal", "normal_",
            "uniform_", "multinomial", "poisson", "exponential_", "geometric_", "cauchy_", "log_normal_", "random_", "rrelu",
            "rrelu_", "rrelu_with_noise", "gumbel_softmax");

    private static final Pattern OP_CALL = Pattern.compile("\\b(?:torch|aten|ops\\.aten)\\.([A-Za-z_][A-Za-z0-9_]*)\\s*\\(");
    private static final Pattern CLASS = Pattern.compile("(?m)^class\\s+([A-Za-z_][A-Za-z0-9_]*)\\s*\\(");
    private static final Pattern LIST = Pattern.compile("(?m)^\\s+__(parameters|buffers)__\\s*=\\s*\\[([^\\]]*)\\]");

    /** A refused archive: the message says what is wrong with the file. */
    public static final class InvalidModelException extends IllegalArgumentException {
        public InvalidModelException(String message) {
            super(message);
        }
    }

    /**
     * One tensor of the module: its dotted name ({@code conv.weight}, {@code layers.0.bn1.running_mean}), shape, dtype
     * ({@code float32}, {@code int64} …), whether it is a buffer, and where its values are ({@code data/<storage>}, element offset).
     */
    public record Tensor(String name, long[] shape, String dtype, boolean buffer, String storage, long offset, long[] stride) {
        public long size() {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }
    }

    private final byte[] bytes;
    private final String sha256;
    private final String prefix;
    private final Map<String, byte[]> entries;
    private final List<Tensor> tensors;
    private final int constants;
    private final Set<String> ops;
    private final Set<String> nonDeterministic;

    private TorchScriptArchive(byte[] bytes, String prefix, Map<String, byte[]> entries, List<Tensor> tensors, int constants,
                               Set<String> ops) {
        this.bytes = bytes;
        this.sha256 = sha256(bytes);
        this.prefix = prefix;
        this.entries = entries;
        this.tensors = List.copyOf(tensors);
        this.constants = constants;
        this.ops = ops;
        Set<String> nd = new TreeSet<>();
        for (String op : ops) {
            if (NON_DETERMINISTIC_OPS.contains(op)) {
                nd.add(op);
            }
        }
        this.nonDeterministic = nd;
    }

    /** Reads a TorchScript file; what is not a TorchScript archive this reader understands is an {@link InvalidModelException}. */
    public static TorchScriptArchive read(byte[] bytes) {
        if (bytes.length > MAX_BYTES) {
            throw new InvalidModelException("the model file is " + bytes.length + " bytes, more than the " + MAX_BYTES + " (4 MiB) allowed");
        }
        Map<String, byte[]> entries;
        try {
            entries = unzip(bytes);
        } catch (RuntimeException e) {
            if (e instanceof InvalidModelException ie) {
                throw ie;
            }
            throw new InvalidModelException("the model file is not a TorchScript archive (not a readable zip: " + e.getMessage() + ")");
        }
        String prefix = null;
        for (String name : entries.keySet()) {
            if (name.endsWith("/data.pkl") && name.indexOf('/') == name.length() - "/data.pkl".length()) {
                prefix = name.substring(0, name.length() - "data.pkl".length());
            }
        }
        if (entries.isEmpty()) {
            throw new InvalidModelException("the model file is not a TorchScript archive (not a zip file, or an empty one): "
                    + "use torch.jit.script(model).save(path)");
        }
        if (prefix == null || !entries.containsKey(prefix + "code/__torch__.py") && !hasCode(entries, prefix)) {
            throw new InvalidModelException("the model file is a zip that is not a TorchScript archive (no ARCHIVE/data.pkl with its code/): "
                    + "use torch.jit.script(model).save(path), not torch.save");
        }
        Map<String, Set<String>[]> classes = classes(entries, prefix);
        Set<String> ops = new TreeSet<>();
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            if (e.getKey().startsWith(prefix + "code/") && e.getKey().endsWith(".py")) {
                Matcher m = OP_CALL.matcher(new String(e.getValue(), StandardCharsets.UTF_8));
                while (m.find()) {
                    ops.add(m.group(1));
                }
            }
        }
        List<Tensor> tensors = new ArrayList<>();
        Object root;
        try {
            root = new Unpickler(entries.get(prefix + "data.pkl")).load();
        } catch (RuntimeException e) {
            throw new InvalidModelException("the model file's data.pkl cannot be read: " + e.getMessage());
        }
        if (!(root instanceof Obj)) {
            throw new InvalidModelException("the model file's data.pkl holds no TorchScript module");
        }
        walk((Obj) root, "", classes, tensors, entries, prefix);
        int constants = 0;
        byte[] c = entries.get(prefix + "constants.pkl");
        if (c != null) {
            try {
                Object cv = new Unpickler(c).load();
                constants = cv instanceof List<?> l ? l.size() : 1;
            } catch (RuntimeException e) {
                throw new InvalidModelException("the model file's constants.pkl cannot be read: " + e.getMessage());
            }
        }
        return new TorchScriptArchive(bytes, prefix, entries, tensors, constants, ops);
    }

    /**
     * The entries of a zip file, read from its central directory (torch writes stored entries with data descriptors, which
     * {@code ZipInputStream} refuses); stored and deflated entries, zip64 sizes.
     */
    private static Map<String, byte[]> unzip(byte[] zip) {
        ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        int eocd = -1;
        for (int i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65535); i--) {
            if (b.getInt(i) == 0x06054b50) {
                eocd = i;
                break;
            }
        }
        Map<String, byte[]> out = new LinkedHashMap<>();
        if (eocd < 0) {
            return out; // not a zip: the caller says so
        }
        long count = b.getShort(eocd + 10) & 0xffff;
        long cd = b.getInt(eocd + 16) & 0xffffffffL;
        if (cd == 0xffffffffL || count == 0xffff) { // zip64: the end record's locator sits just before
            int loc = eocd - 20;
            if (loc < 0 || b.getInt(loc) != 0x07064b50) {
                throw new IllegalArgumentException("zip64 end locator missing");
            }
            int e64 = Math.toIntExact(b.getLong(loc + 8));
            if (b.getInt(e64) != 0x06064b50) {
                throw new IllegalArgumentException("zip64 end record missing");
            }
            count = b.getLong(e64 + 32);
            cd = b.getLong(e64 + 48);
        }
        if (count > 100_000) {
            throw new IllegalArgumentException(count + " entries");
        }
        int p = Math.toIntExact(cd);
        long total = 0;
        for (long n = 0; n < count; n++) {
            if (b.getInt(p) != 0x02014b50) {
                throw new IllegalArgumentException("central directory entry " + n + " is damaged");
            }
            int method = b.getShort(p + 10) & 0xffff;
            long csize = b.getInt(p + 20) & 0xffffffffL;
            long usize = b.getInt(p + 24) & 0xffffffffL;
            int nameLen = b.getShort(p + 28) & 0xffff;
            int extraLen = b.getShort(p + 30) & 0xffff;
            int commentLen = b.getShort(p + 32) & 0xffff;
            long local = b.getInt(p + 42) & 0xffffffffL;
            String name = new String(zip, p + 46, nameLen, StandardCharsets.UTF_8);
            int x = p + 46 + nameLen;
            int xEnd = x + extraLen;
            while (x + 4 <= xEnd) { // zip64 extended information
                int id = b.getShort(x) & 0xffff;
                int len = b.getShort(x + 2) & 0xffff;
                if (id == 1) {
                    int q = x + 4;
                    if (usize == 0xffffffffL) {
                        usize = b.getLong(q);
                        q += 8;
                    }
                    if (csize == 0xffffffffL) {
                        csize = b.getLong(q);
                        q += 8;
                    }
                    if (local == 0xffffffffL) {
                        local = b.getLong(q);
                    }
                }
                x += 4 + len;
            }
            p = xEnd + commentLen;
            int lh = Math.toIntExact(local);
            if (b.getInt(lh) != 0x04034b50) {
                throw new IllegalArgumentException("entry " + name + " has no local header");
            }
            int data = lh + 30 + (b.getShort(lh + 26) & 0xffff) + (b.getShort(lh + 28) & 0xffff);
            if (csize > zip.length - data || usize > MAX_BYTES * 4L) {
                throw new IllegalArgumentException("entry " + name + " is larger than the file");
            }
            total += usize;
            if (total > MAX_BYTES * 4L) {
                throw new InvalidModelException("the model file unpacks to more than " + (MAX_BYTES * 4L) + " bytes");
            }
            byte[] content;
            if (method == 0) {
                content = java.util.Arrays.copyOfRange(zip, data, data + Math.toIntExact(csize));
            } else if (method == 8) {
                java.util.zip.Inflater inf = new java.util.zip.Inflater(true);
                try {
                    inf.setInput(zip, data, Math.toIntExact(csize));
                    content = new byte[Math.toIntExact(usize)];
                    int got = 0;
                    while (got < content.length && !inf.finished()) {
                        int k = inf.inflate(content, got, content.length - got);
                        if (k == 0 && (inf.needsInput() || inf.needsDictionary())) {
                            break;
                        }
                        got += k;
                    }
                    if (got != content.length) {
                        throw new IllegalArgumentException("entry " + name + " inflates to " + got + " bytes, not " + usize);
                    }
                } catch (java.util.zip.DataFormatException e) {
                    throw new IllegalArgumentException("entry " + name + ": " + e.getMessage());
                } finally {
                    inf.end();
                }
            } else {
                throw new IllegalArgumentException("entry " + name + " uses compression method " + method);
            }
            if (out.put(name, content) != null) {
                throw new InvalidModelException("the model file has the entry " + name + " twice");
            }
        }
        return out;
    }

    private static boolean hasCode(Map<String, byte[]> entries, String prefix) {
        return entries.keySet().stream().anyMatch(k -> k.startsWith(prefix + "code/") && k.endsWith(".py"));
    }

    /** For each TorchScript class {@code __torch__.…Name}: its parameter and buffer attribute names. */
    @SuppressWarnings("unchecked")
    private static Map<String, Set<String>[]> classes(Map<String, byte[]> entries, String prefix) {
        Map<String, Set<String>[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            String k = e.getKey();
            if (!k.startsWith(prefix + "code/") || !k.endsWith(".py")) {
                continue;
            }
            String module = k.substring((prefix + "code/").length(), k.length() - 3).replace('/', '.');
            String text = new String(e.getValue(), StandardCharsets.UTF_8);
            Matcher cm = CLASS.matcher(text);
            List<int[]> starts = new ArrayList<>();
            List<String> names = new ArrayList<>();
            while (cm.find()) {
                starts.add(new int[]{cm.start()});
                names.add(cm.group(1));
            }
            for (int i = 0; i < names.size(); i++) {
                int from = starts.get(i)[0];
                int to = i + 1 < names.size() ? starts.get(i + 1)[0] : text.length();
                Set<String>[] pb = new Set[]{new LinkedHashSet<String>(), new LinkedHashSet<String>()};
                Matcher lm = LIST.matcher(text.substring(from, to));
                while (lm.find()) {
                    Set<String> into = lm.group(1).equals("parameters") ? pb[0] : pb[1];
                    for (String item : lm.group(2).split(",")) {
                        String s = item.trim();
                        if (s.length() >= 2 && (s.startsWith("\"") || s.startsWith("'"))) {
                            into.add(s.substring(1, s.length() - 1));
                        }
                    }
                }
                out.put(module + "." + names.get(i), pb);
            }
        }
        return out;
    }

    private static void walk(Obj o, String path, Map<String, Set<String>[]> classes, List<Tensor> out, Map<String, byte[]> entries,
                             String prefix) {
        Set<String>[] pb = classes.get(o.cls);
        if (!(o.state instanceof Map<?, ?> attrs)) {
            return; // a module object without attributes
        }
        for (Map.Entry<?, ?> a : attrs.entrySet()) {
            String key = String.valueOf(a.getKey());
            Object v = a.getValue();
            if (v instanceof TensorRef t) {
                boolean buffer = pb != null ? !pb[0].contains(key) : !t.requiresGrad;
                byte[] data = entries.get(prefix + "data/" + t.storage);
                if (data == null) {
                    throw new InvalidModelException("tensor " + path + key + " refers to data/" + t.storage + ", which the archive lacks");
                }
                long need = (t.offset + maxIndex(t.shape, t.stride) + 1) * dtypeBytes(t.dtype);
                if (sizeOf(t.shape) > 0 && need > data.length) {
                    throw new InvalidModelException("tensor " + path + key + " needs " + need + " bytes of data/" + t.storage + ", which has "
                            + data.length);
                }
                out.add(new Tensor(path + key, t.shape, t.dtype, buffer, t.storage, t.offset, t.stride));
            } else if (v instanceof Obj child) {
                walk(child, path + key + ".", classes, out, entries, prefix);
            }
        }
    }

    private static long maxIndex(long[] shape, long[] stride) {
        long m = 0;
        for (int i = 0; i < shape.length; i++) {
            m += (shape[i] - 1) * stride[i];
        }
        return m;
    }

    private static long sizeOf(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private static int dtypeBytes(String dtype) {
        return switch (dtype) {
            case "float64", "int64" -> 8;
            case "float32", "int32" -> 4;
            case "float16", "bfloat16", "int16" -> 2;
            case "int8", "uint8", "bool" -> 1;
            default -> throw new InvalidModelException("tensor dtype " + dtype + " is not supported");
        };
    }

    /** SHA-256 of the file's bytes, lower-case hex (64 characters): the model's name in a spec and in the bucket. */
    public String sha256() {
        return sha256;
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    public int size() {
        return bytes.length;
    }

    /** Every tensor of the module (parameters and buffers) in archive order. */
    public List<Tensor> tensors() {
        return tensors;
    }

    /** Number of trainable parameters (values). */
    public long parameterCount() {
        long n = 0;
        for (Tensor t : tensors) {
            if (!t.buffer()) {
                n += t.size();
            }
        }
        return n;
    }

    public int constantCount() {
        return constants;
    }

    /** Ops the graph's code calls ({@code torch.X(…)}, {@code ops.aten.X(…)}). */
    public Set<String> ops() {
        return ops;
    }

    /** The ops of {@link #NON_DETERMINISTIC_OPS} the graph calls. */
    public Set<String> nonDeterministicOps() {
        return nonDeterministic;
    }

    /** Classes of the last linear layer (the last two-dimensional parameter's rows), where there is one. */
    public OptionalInt outputClasses() {
        for (int i = tensors.size() - 1; i >= 0; i--) {
            Tensor t = tensors.get(i);
            if (!t.buffer() && t.shape().length == 2) {
                return OptionalInt.of(Math.toIntExact(t.shape()[0]));
            }
            if (!t.buffer() && t.shape().length > 2) {
                return OptionalInt.empty(); // a convolution last: the output's classes are not known without running it
            }
        }
        return OptionalInt.empty();
    }

    /**
     * What the first layer takes, where it can be read off: a convolution's input channels ({@code [C]}), or a linear layer's
     * input features ({@code [F]}); empty otherwise.
     */
    public java.util.Optional<long[]> firstLayerInput() {
        for (Tensor t : tensors) {
            if (!t.buffer() && t.shape().length == 4) {
                return java.util.Optional.of(new long[]{t.shape()[1], -1, -1});
            }
            if (!t.buffer() && t.shape().length == 2) {
                return java.util.Optional.of(new long[]{t.shape()[1]});
            }
            if (!t.buffer()) {
                return java.util.Optional.empty();
            }
        }
        return java.util.Optional.empty();
    }

    /**
     * The checks an upload and an intent get before anything else: the model has parameters, calls no non-deterministic op, every
     * tensor is a dense float (or, for a buffer, an integer counter), and its first and last layers fit the declared input and
     * classes where they can be read off. A failure is an {@link InvalidModelException} saying what to change.
     *
     * @param input   the declared input ({@code [C, H, W]} or {@code [F]}), or null not to check it
     * @param classes the declared classes, or 0 not to check them
     */
    public void check(List<Integer> input, int classes) {
        if (parameterCount() == 0) {
            throw new InvalidModelException("the model has no parameters: there is nothing to train; send a model with at least one trainable parameter");
        }
        if (!nonDeterministic.isEmpty()) {
            throw new InvalidModelException("the model calls non-deterministic ops " + nonDeterministic + " (dropout in training mode, "
                    + "random sampling): its training cannot be re-executed bit for bit; remove them (or replace dropout by nothing)");
        }
        for (Tensor t : tensors) {
            boolean ok = t.dtype().equals("float32") || t.buffer() && t.dtype().equals("int64") && t.size() <= 1;
            if (!ok) {
                throw new InvalidModelException("tensor " + t.name() + " is " + t.dtype() + (t.buffer() ? " (a buffer)" : "")
                        + ": parameters and buffers must be float32 (an int64 scalar counter is allowed)");
            }
            if (!contiguous(t)) {
                throw new InvalidModelException("tensor " + t.name() + " is not contiguous (stride " + java.util.Arrays.toString(t.stride())
                        + "): save the model with contiguous parameters");
            }
        }
        if (classes > 0) {
            OptionalInt out = outputClasses();
            if (out.isPresent() && out.getAsInt() != classes) {
                throw new InvalidModelException("the model's last layer has " + out.getAsInt() + " outputs, the intent declares " + classes
                        + " classes: set classes=" + out.getAsInt() + " or change the model's output");
            }
        }
        if (input != null) {
            java.util.Optional<long[]> first = firstLayerInput();
            if (first.isPresent()) {
                long[] f = first.get();
                long values = 1;
                for (int d : input) {
                    values *= d;
                }
                if (f.length == 3 && (input.size() != 3 || input.get(0) != f[0])) {
                    throw new InvalidModelException("the model's first convolution takes " + f[0] + " channels, the declared input is "
                            + String.join("x", input.stream().map(String::valueOf).toList()));
                }
                if (f.length == 1 && f[0] != values) {
                    throw new InvalidModelException("the model's first linear layer takes " + f[0] + " features, the declared input has "
                            + values + " values");
                }
            }
        }
    }

    private static boolean contiguous(Tensor t) {
        long expected = 1;
        for (int i = t.shape().length - 1; i >= 0; i--) {
            if (t.shape()[i] != 1 && t.stride()[i] != expected) {
                return false;
            }
            expected *= t.shape()[i];
        }
        return true;
    }

    /** The file's own tensors as a model state (round 0 of a job: no momentum, step 0); integer buffers as floats. */
    public ModelState state() {
        List<String> names = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        float[][] values = new float[tensors.size()][];
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            names.add(t.name());
            shapes.add(t.shape().clone());
            ByteBuffer b = ByteBuffer.wrap(entries.get(prefix + "data/" + t.storage())).order(ByteOrder.LITTLE_ENDIAN);
            int n = Math.toIntExact(t.size());
            float[] v = new float[n];
            int w = dtypeBytes(t.dtype());
            for (int j = 0; j < n; j++) {
                int at = Math.toIntExact((t.offset() + j) * w);
                v[j] = switch (t.dtype()) {
                    case "float32" -> b.getFloat(at);
                    case "int64" -> (float) b.getLong(at);
                    case "float64" -> (float) b.getDouble(at);
                    case "int32" -> (float) b.getInt(at);
                    default -> throw new InvalidModelException("tensor " + t.name() + " is " + t.dtype() + ": not supported");
                };
            }
            values[i] = v;
        }
        return new ModelState(names, shapes, values, null, 0);
    }

    /**
     * This archive with its tensors' values replaced by {@code state}'s (same names and sizes, archive order; an integer buffer
     * rounded), every other entry byte for byte as it was: the file a worker loads to continue from a checkpoint.
     */
    public byte[] withState(ModelState state) {
        if (state.names().size() != tensors.size()) {
            throw new IllegalArgumentException("state has " + state.names().size() + " tensors, model " + sha256 + " has " + tensors.size());
        }
        Map<String, byte[]> data = new LinkedHashMap<>();
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            if (!t.name().equals(state.names().get(i)) || state.params()[i].length != t.size()) {
                throw new IllegalArgumentException("state tensor " + i + " is " + state.names().get(i) + " of " + state.params()[i].length
                        + " values, the model's is " + t.name() + " of " + t.size());
            }
            byte[] buf = data.computeIfAbsent(t.storage(), k -> entries.get(prefix + "data/" + k).clone());
            ByteBuffer b = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
            float[] v = state.params()[i];
            int w = dtypeBytes(t.dtype());
            for (int j = 0; j < v.length; j++) {
                int at = Math.toIntExact((t.offset() + j) * w);
                switch (t.dtype()) {
                    case "float32" -> b.putFloat(at, v[j]);
                    case "int64" -> b.putLong(at, Math.round((double) v[j]));
                    default -> throw new IllegalArgumentException("tensor " + t.name() + " is " + t.dtype() + ": not supported");
                }
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length + 1024);
        try (ZipOutputStream zout = new ZipOutputStream(out)) {
            zout.setLevel(0);
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                String key = e.getKey();
                byte[] content = key.startsWith(prefix + "data/") && data.containsKey(key.substring((prefix + "data/").length()))
                        ? data.get(key.substring((prefix + "data/").length())) : e.getValue();
                ZipEntry ze = new ZipEntry(key);
                ze.setMethod(ZipEntry.STORED);
                ze.setSize(content.length);
                CRC32 crc = new CRC32();
                crc.update(content);
                ze.setCrc(crc.getValue());
                ze.setTime(315532800000L); // 1980-01-01, as torch writes it: the same state gives the same bytes
                zout.putNextEntry(ze);
                zout.write(content);
                zout.closeEntry();
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- a minimal pickle reader: the opcodes torch.jit's serializer writes (protocol 2), nothing that calls code ----

    private record Global(String module, String name) {
    }

    private static final class Obj {
        final String cls;
        Object state;

        Obj(String cls) {
            this.cls = cls;
        }
    }

    private record TensorRef(String storage, String dtype, long offset, long[] shape, long[] stride, boolean requiresGrad) {
    }

    private record StorageRef(String key, String dtype) {
    }

    private static final Object MARK = new Object();

    private static final class Unpickler {
        private final ByteBuffer in;
        private final List<Object> stack = new ArrayList<>();
        private final Map<Long, Object> memo = new java.util.HashMap<>();

        Unpickler(byte[] data) {
            this.in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        }

        Object load() {
            int ops = 0;
            while (true) {
                if (!in.hasRemaining()) {
                    throw new IllegalArgumentException("pickle ends without STOP");
                }
                if (++ops > 10_000_000) {
                    throw new IllegalArgumentException("pickle too long");
                }
                int op = in.get() & 0xff;
                switch (op) {
                    case 0x80 -> { // PROTO
                        int p = in.get() & 0xff;
                        if (p > 5) {
                            throw new IllegalArgumentException("pickle protocol " + p);
                        }
                    }
                    case 0x95 -> in.getLong(); // FRAME
                    case '.' -> {
                        if (stack.size() != 1) {
                            throw new IllegalArgumentException("pickle stack holds " + stack.size() + " values at STOP");
                        }
                        return stack.get(0);
                    }
                    case '(' -> push(MARK);
                    case ')' -> push(new ArrayList<>());
                    case ']' -> push(new ArrayList<>());
                    case '}' -> push(new LinkedHashMap<>());
                    case 'N' -> push(null);
                    case 0x88 -> push(Boolean.TRUE);
                    case 0x89 -> push(Boolean.FALSE);
                    case 'K' -> push((long) (in.get() & 0xff));
                    case 'M' -> push((long) (in.getShort() & 0xffff));
                    case 'J' -> push((long) in.getInt());
                    case 0x8a -> { // LONG1
                        int n = in.get() & 0xff;
                        byte[] b = new byte[n];
                        in.get(b);
                        long v = 0;
                        for (int i = n - 1; i >= 0; i--) {
                            v = (v << 8) | (b[i] & 0xff);
                        }
                        if (n > 0 && n < 8 && (b[n - 1] & 0x80) != 0) {
                            v -= 1L << (8 * n);
                        }
                        push(v);
                    }
                    case 'G' -> push(ByteBuffer.wrap(bytes(8)).order(ByteOrder.BIG_ENDIAN).getDouble());
                    case 'X' -> push(new String(bytes(len(in.getInt())), StandardCharsets.UTF_8));
                    case 0x8c -> push(new String(bytes(in.get() & 0xff), StandardCharsets.UTF_8)); // SHORT_BINUNICODE
                    case 'C' -> push(bytes(in.get() & 0xff)); // SHORT_BINBYTES
                    case 'B' -> push(bytes(len(in.getInt()))); // BINBYTES
                    case 'c' -> push(global(line(), line()));
                    case 0x93 -> { // STACK_GLOBAL
                        String name = (String) pop();
                        String module = (String) pop();
                        push(global(module, name));
                    }
                    case 'q' -> memo.put((long) (in.get() & 0xff), peek());
                    case 'r' -> memo.put(in.getInt() & 0xffffffffL, peek());
                    case 0x94 -> memo.put((long) memo.size(), peek()); // MEMOIZE
                    case 'h' -> push(memoGet(in.get() & 0xff));
                    case 'j' -> push(memoGet(in.getInt() & 0xffffffffL));
                    case 't' -> push(new ArrayList<>(popMark()));
                    case 0x85 -> push(new ArrayList<>(List.of(box(pop()))));
                    case 0x86 -> {
                        Object b = pop();
                        Object a = pop();
                        push(listOf(a, b));
                    }
                    case 0x87 -> {
                        Object c = pop();
                        Object b = pop();
                        Object a = pop();
                        push(listOf(a, b, c));
                    }
                    case 'a' -> {
                        Object v = pop();
                        list(peek()).add(v);
                    }
                    case 'e' -> {
                        List<Object> items = popMark();
                        list(peek()).addAll(items);
                    }
                    case 's' -> {
                        Object v = pop();
                        Object k = pop();
                        map(peek()).put(k, v);
                    }
                    case 'u' -> {
                        List<Object> items = popMark();
                        Map<Object, Object> m = map(peek());
                        for (int i = 0; i + 1 < items.size(); i += 2) {
                            m.put(items.get(i), items.get(i + 1));
                        }
                    }
                    case 0x81 -> { // NEWOBJ
                        pop(); // args
                        Object cls = pop();
                        if (!(cls instanceof Global g) || !g.module().startsWith("__torch__")) {
                            throw new IllegalArgumentException("pickle creates " + cls + ", not a TorchScript class");
                        }
                        push(new Obj(g.module() + "." + g.name()));
                    }
                    case 'b' -> { // BUILD
                        Object state = pop();
                        Object o = peek();
                        if (!(o instanceof Obj obj)) {
                            throw new IllegalArgumentException("pickle BUILD on a " + o);
                        }
                        obj.state = state;
                    }
                    case 'Q' -> push(persistent(pop())); // BINPERSID
                    case 'R' -> { // REDUCE
                        Object args = pop();
                        Object fn = pop();
                        push(reduce(fn, args));
                    }
                    default -> throw new IllegalArgumentException(String.format(Locale.ROOT, "pickle opcode 0x%02x at byte %d is not "
                            + "one a TorchScript archive uses", op, in.position() - 1));
                }
            }
        }

        private static Object box(Object o) {
            return o;
        }

        private static List<Object> listOf(Object... items) {
            List<Object> l = new ArrayList<>();
            java.util.Collections.addAll(l, items);
            return l;
        }

        private int len(int n) {
            if (n < 0 || n > in.remaining()) {
                throw new IllegalArgumentException("pickle string of " + n + " bytes");
            }
            return n;
        }

        private byte[] bytes(int n) {
            byte[] b = new byte[n];
            in.get(b);
            return b;
        }

        private String line() {
            StringBuilder sb = new StringBuilder();
            while (true) {
                byte b = in.get();
                if (b == '\n') {
                    return sb.toString();
                }
                if (sb.length() > 1000) {
                    throw new IllegalArgumentException("pickle global name too long");
                }
                sb.append((char) (b & 0xff));
            }
        }

        private static Object global(String module, String name) {
            boolean allowed = module.startsWith("__torch__") || module.equals("torch._utils") && name.equals("_rebuild_tensor_v2")
                    || module.equals("collections") && name.equals("OrderedDict")
                    || module.equals("torch") && name.endsWith("Storage")
                    || module.equals("torch.jit._pickle") || module.equals("torch._utils") && name.equals("_rebuild_parameter");
            if (!allowed) {
                throw new IllegalArgumentException("pickle refers to " + module + "." + name + ", which a TorchScript archive does not");
            }
            return new Global(module, name);
        }

        private Object persistent(Object pid) {
            List<Object> t = list(pid);
            if (t.size() < 5 || !"storage".equals(t.get(0)) || !(t.get(1) instanceof Global g)) {
                throw new IllegalArgumentException("pickle persistent id " + pid + " is not a storage");
            }
            String key = String.valueOf(t.get(2));
            if (!key.matches("[0-9A-Za-z_]{1,40}")) {
                throw new IllegalArgumentException("storage key " + key);
            }
            return new StorageRef(key, dtype(g.name()));
        }

        private static String dtype(String storage) {
            return switch (storage) {
                case "FloatStorage" -> "float32";
                case "DoubleStorage" -> "float64";
                case "HalfStorage" -> "float16";
                case "BFloat16Storage" -> "bfloat16";
                case "LongStorage" -> "int64";
                case "IntStorage" -> "int32";
                case "ShortStorage" -> "int16";
                case "CharStorage" -> "int8";
                case "ByteStorage" -> "uint8";
                case "BoolStorage" -> "bool";
                default -> throw new IllegalArgumentException("storage type " + storage);
            };
        }

        private Object reduce(Object fn, Object args) {
            if (!(fn instanceof Global g)) {
                throw new IllegalArgumentException("pickle calls " + fn);
            }
            List<Object> a = list(args);
            if (g.name().equals("_rebuild_tensor_v2")) {
                if (a.size() < 4 || !(a.get(0) instanceof StorageRef s)) {
                    throw new IllegalArgumentException("malformed tensor rebuild");
                }
                long[] shape = longs(a.get(2));
                long[] stride = longs(a.get(3));
                if (shape.length != stride.length) {
                    throw new IllegalArgumentException("tensor shape " + java.util.Arrays.toString(shape) + " and stride differ in rank");
                }
                for (long d : shape) {
                    if (d < 0 || d > Integer.MAX_VALUE) {
                        throw new IllegalArgumentException("tensor dimension " + d);
                    }
                }
                return new TensorRef(s.key(), s.dtype(), (Long) a.get(1), shape, stride, a.size() > 4 && Boolean.TRUE.equals(a.get(4)));
            }
            if (g.name().equals("_rebuild_parameter") && !a.isEmpty() && a.get(0) instanceof TensorRef t) {
                return new TensorRef(t.storage(), t.dtype(), t.offset(), t.shape(), t.stride(), a.size() > 1 && Boolean.TRUE.equals(a.get(1)));
            }
            if (g.name().equals("OrderedDict")) {
                return new LinkedHashMap<>();
            }
            if (g.module().equals("torch.jit._pickle")) {
                return a.isEmpty() ? null : a.get(0); // build_intlist, build_tensorlist …: the list itself
            }
            throw new IllegalArgumentException("pickle calls " + g.module() + "." + g.name());
        }

        private static long[] longs(Object o) {
            List<Object> l = list(o);
            long[] out = new long[l.size()];
            for (int i = 0; i < out.length; i++) {
                if (!(l.get(i) instanceof Long v)) {
                    throw new IllegalArgumentException("tensor size " + l);
                }
                out[i] = v;
            }
            return out;
        }

        @SuppressWarnings("unchecked")
        private static List<Object> list(Object o) {
            if (o instanceof List<?> l) {
                return (List<Object>) l;
            }
            throw new IllegalArgumentException("pickle expected a list or tuple, got " + o);
        }

        @SuppressWarnings("unchecked")
        private static Map<Object, Object> map(Object o) {
            if (o instanceof Map<?, ?> m) {
                return (Map<Object, Object>) m;
            }
            throw new IllegalArgumentException("pickle expected a dict, got " + o);
        }

        private Object memoGet(long k) {
            if (!memo.containsKey(k)) {
                throw new IllegalArgumentException("pickle memo " + k + " unset");
            }
            return memo.get(k);
        }

        private void push(Object o) {
            if (stack.size() > 100_000) {
                throw new IllegalArgumentException("pickle stack too deep");
            }
            stack.add(o);
        }

        private Object pop() {
            if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
                throw new IllegalArgumentException("pickle stack underflow");
            }
            return stack.remove(stack.size() - 1);
        }

        private Object peek() {
            if (stack.isEmpty()) {
                throw new IllegalArgumentException("pickle stack underflow");
            }
            return stack.get(stack.size() - 1);
        }

        private List<Object> popMark() {
            for (int i = stack.size() - 1; i >= 0; i--) {
                if (stack.get(i) == MARK) {
                    List<Object> items = new ArrayList<>(stack.subList(i + 1, stack.size()));
                    stack.subList(i, stack.size()).clear();
                    return items;
                }
            }
            throw new IllegalArgumentException("pickle MARK missing");
        }
    }
}
