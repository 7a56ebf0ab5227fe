package dev.starspec.engine.graph;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The weights file beside {@code model.onnx}. Every tensor starts on a page boundary, so ONNX Runtime can
 * memory-map it instead of copying it through a read buffer.
 */
public final class ExternalData implements AutoCloseable {

    /** Where one tensor landed in the file. */
    public record Span(long offset, long length) {}

    static final int ALIGNMENT = 4096;
    private static final int CHUNK_FLOATS = 4 << 20;

    private final Path path;
    private final FileChannel channel;
    private final ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK_FLOATS * 4).order(ByteOrder.LITTLE_ENDIAN);
    private final MessageDigest digest;
    private long size;

    public ExternalData(Path path) {
        this.path = path;
        try {
            this.digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try {
            this.channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + path, e);
        }
    }

    public Path path() {
        return path;
    }

    public String fileName() {
        return path.getFileName().toString();
    }

    public long size() {
        return size;
    }

    /** SHA-256 of everything written so far, padding included: the file's hash without reading it back. */
    public String sha256() {
        try {
            return HexFormat.of().formatHex(((MessageDigest) digest.clone()).digest());
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
    }

    public Span writeFloats(float[] values) {
        long offset = align();
        for (int done = 0; done < values.length; ) {
            int n = Math.min(CHUNK_FLOATS, values.length - done);
            chunk.clear();
            chunk.asFloatBuffer().put(values, done, n);
            chunk.limit(n * 4);
            writeFully(chunk);
            done += n;
        }
        return new Span(offset, 4L * values.length);
    }

    public Span writeBytes(byte[] values) {
        long offset = align();
        writeFully(ByteBuffer.wrap(values));
        return new Span(offset, values.length);
    }

    private long align() {
        long padded = (size + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        if (padded > size) {
            writeFully(ByteBuffer.allocate((int) (padded - size)));
        }
        return size;
    }

    private void writeFully(ByteBuffer buffer) {
        digest.update(buffer.duplicate());
        try {
            while (buffer.hasRemaining()) {
                size += channel.write(buffer, size);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + path, e);
        }
    }

    @Override
    public void close() {
        try {
            channel.force(false);
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + path, e);
        }
    }
}
