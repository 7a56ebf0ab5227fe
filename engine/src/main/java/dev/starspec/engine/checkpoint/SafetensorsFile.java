package dev.starspec.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One {@code .safetensors} file: an 8-byte little-endian header length, a JSON header mapping tensor names to
 * dtype, shape and byte range, then the raw data. Tensors are read one at a time through a small reusable
 * buffer, so a multi-gigabyte shard never lands on the Java heap as a whole.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** One tensor's header entry; {@code begin}/{@code end} are offsets into the data section. */
    public record Entry(String name, String dtype, long[] shape, long begin, long end) {
        public long elementCount() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private static final long MAX_HEADER_BYTES = 100L << 20;
    private static final int CHUNK_BYTES = 16 << 20;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final long fileSize;
    private final Map<String, Entry> entries;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, long fileSize, Map<String, Entry> entries) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.fileSize = fileSize;
        this.entries = entries;
    }

    public static SafetensorsFile open(Path path) {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new CheckpointException(path, "cannot open weights file: " + e.getMessage(), e);
        }
        try {
            long size = channel.size();
            if (size < 8) {
                throw new CheckpointException(path, "not a safetensors file: only " + size + " bytes");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lengthBytes, 0);
            long headerLength = lengthBytes.getLong(0);
            if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || 8 + headerLength > size) {
                throw new CheckpointException(path, "not a safetensors file or truncated: header length "
                        + headerLength + " does not fit in a file of " + size + " bytes");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(channel, header, 8);
            Map<String, Entry> entries = parseHeader(path, new String(header.array(), StandardCharsets.UTF_8));
            long dataSize = size - 8 - headerLength;
            for (Entry e : entries.values()) {
                if (e.end > dataSize) {
                    throw new CheckpointException(path, "truncated: tensor " + e.name + " needs bytes up to "
                            + (8 + headerLength + e.end) + " but the file has " + size);
                }
            }
            return new SafetensorsFile(path, channel, 8 + headerLength, size, entries);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new CheckpointException(path, "cannot read weights file: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private static Map<String, Entry> parseHeader(Path path, String json) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new CheckpointException(path, "safetensors header is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(path, "safetensors header is not a JSON object");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            if (name.equals("__metadata__")) {
                continue;
            }
            JsonNode t = field.getValue();
            JsonNode shapeNode = t.path("shape");
            JsonNode offsets = t.path("data_offsets");
            if (!t.path("dtype").isTextual() || !shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
                throw new CheckpointException(path, "malformed header entry for tensor " + name);
            }
            long[] shape = new long[shapeNode.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeNode.get(i).asLong(-1);
                if (shape[i] < 0) {
                    throw new CheckpointException(path, "negative dimension in tensor " + name);
                }
            }
            long begin = offsets.get(0).asLong(-1);
            long end = offsets.get(1).asLong(-1);
            if (begin < 0 || end < begin) {
                throw new CheckpointException(path, "bad data_offsets for tensor " + name);
            }
            entries.put(name, new Entry(name, t.get("dtype").asText(), shape, begin, end));
        }
        return Collections.unmodifiableMap(entries);
    }

    public Path path() {
        return path;
    }

    public Map<String, Entry> entries() {
        return entries;
    }

    /**
     * Reads a tensor as float32, row-major. The stored dtype must be F32, F16 or BF16, and the shape must
     * equal {@code expectedShape}.
     */
    public float[] read(String name, long... expectedShape) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new CheckpointException(path, "missing tensor " + name);
        }
        if (!Arrays.equals(e.shape, expectedShape)) {
            throw new CheckpointException(path, "tensor " + name + " has shape " + Arrays.toString(e.shape)
                    + ", expected " + Arrays.toString(expectedShape));
        }
        DType dtype;
        try {
            dtype = DType.fromSafetensorsName(e.dtype);
        } catch (IllegalArgumentException ex) {
            throw new CheckpointException(path, "tensor " + name + ": " + ex.getMessage(), ex);
        }
        long count = e.elementCount();
        if (e.end - e.begin != count * dtype.bytes()) {
            throw new CheckpointException(path, "tensor " + name + " spans " + (e.end - e.begin) + " bytes but "
                    + Arrays.toString(e.shape) + " " + e.dtype + " needs " + count * dtype.bytes());
        }
        if (count > Integer.MAX_VALUE - 8) {
            throw new CheckpointException(path, "tensor " + name + " has " + count + " elements, more than a Java array holds");
        }
        float[] out = new float[(int) count];
        ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        int elementsPerChunk = CHUNK_BYTES / dtype.bytes();
        try {
            for (int done = 0; done < count; ) {
                int n = (int) Math.min(elementsPerChunk, count - done);
                chunk.clear().limit(n * dtype.bytes());
                readFully(channel, chunk, dataStart + e.begin + (long) done * dtype.bytes());
                chunk.flip();
                dtype.decode(chunk, out, done, n);
                done += n;
            }
        } catch (IOException ex) {
            throw new CheckpointException(path, "cannot read tensor " + name + ": " + ex.getMessage(), ex);
        }
        return out;
    }

    public long fileSize() {
        return fileSize;
    }

    private static void readFully(FileChannel channel, ByteBuffer dst, long position) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) {
                throw new IOException("unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Nothing more useful to report than the error already being thrown.
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }
}
