package dev.starspec.engine.graph;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * A thin writer of ONNX graphs: inputs, outputs, nodes, and initializers whose bytes go to an
 * {@link ExternalData} file. Large weights never sit in the protobuf (which is limited to 2 GB).
 */
public final class GraphBuilder {

    public static final String MS_DOMAIN = "com.microsoft";
    public static final int OPSET = 17;

    /** An ONNX node attribute. */
    public record Attr(AttributeProto proto) {
        public static Attr of(String name, long value) {
            return new Attr(AttributeProto.newBuilder().setName(name)
                    .setType(AttributeProto.AttributeType.INT).setI(value).build());
        }

        public static Attr of(String name, float value) {
            return new Attr(AttributeProto.newBuilder().setName(name)
                    .setType(AttributeProto.AttributeType.FLOAT).setF(value).build());
        }

        public static Attr of(String name, long... values) {
            AttributeProto.Builder b = AttributeProto.newBuilder().setName(name)
                    .setType(AttributeProto.AttributeType.INTS);
            for (long v : values) {
                b.addInts(v);
            }
            return new Attr(b.build());
        }
    }

    private final OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder().setName("starspec");
    private final ExternalData data;
    private final Set<String> names = new HashSet<>();
    private int anonymous;

    public GraphBuilder(ExternalData data) {
        this.data = data;
    }

    /** A graph input; each dimension is a fixed size (Number) or a symbolic name (String). */
    public String input(String name, int elemType, Object... dims) {
        graph.addInput(valueInfo(claim(name), elemType, dims));
        return name;
    }

    public void output(String name, int elemType, Object... dims) {
        graph.addOutput(valueInfo(name, elemType, dims));
    }

    /** A node in the default ONNX domain with one output. */
    public String op(String opType, String output, String[] inputs, Attr... attrs) {
        return node("", opType, new String[] {output}, inputs, attrs)[0];
    }

    /** A node in the {@code com.microsoft} contrib domain with one output. */
    public String msOp(String opType, String output, String[] inputs, Attr... attrs) {
        return node(MS_DOMAIN, opType, new String[] {output}, inputs, attrs)[0];
    }

    /** A node with several outputs; {@code outputs} may hold null (name it) or "" (optional, not wanted). */
    public String[] node(String domain, String opType, String[] outputs, String[] inputs, Attr... attrs) {
        // null: a fresh name; "": an optional output left out.
        String[] outs = Arrays.stream(outputs).map(o -> o != null && o.isEmpty() ? o
                : claim(o == null ? opType + "_" + anonymous++ : o)).toArray(String[]::new);
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(opType).setDomain(domain).setName(outs[0]);
        for (String in : inputs) {
            n.addInput(in);
        }
        for (String out : outs) {
            n.addOutput(out);
        }
        for (Attr a : attrs) {
            n.addAttribute(a.proto());
        }
        graph.addNode(n);
        return outs;
    }

    /** A float32 weight stored in the external data file. */
    public String weight(String name, float[] values, long... dims) {
        requireCount(name, values.length, dims);
        return external(name, TensorProto.DataType.FLOAT_VALUE, data.writeFloats(values), dims);
    }

    /** A weight of any element type given as its raw little-endian bytes, stored in the external data file. */
    public String weightBytes(String name, int dataType, byte[] bytes, long... dims) {
        return external(name, dataType, data.writeBytes(bytes), dims);
    }

    private String external(String name, int dataType, ExternalData.Span span, long... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(claim(name)).setDataType(dataType)
                .setDataLocation(TensorProto.DataLocation.EXTERNAL);
        for (long d : dims) {
            t.addDims(d);
        }
        t.addExternalData(entry("location", data.fileName()));
        t.addExternalData(entry("offset", Long.toString(span.offset())));
        t.addExternalData(entry("length", Long.toString(span.length())));
        graph.addInitializer(t);
        return name;
    }

    /** A small int64 constant kept inside the graph (shapes, axes, indices). */
    public String constLongs(String name, long[] values, long... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(claim(name)).setDataType(TensorProto.DataType.INT64_VALUE);
        for (long d : dims) {
            t.addDims(d);
        }
        for (long v : values) {
            t.addInt64Data(v);
        }
        graph.addInitializer(t);
        return name;
    }

    public String constLongs(String name, long... values) {
        return constLongs(name, values, values.length);
    }

    /** A float32 scalar constant kept inside the graph. */
    public String constFloat(String name, float value) {
        graph.addInitializer(TensorProto.newBuilder().setName(claim(name))
                .setDataType(TensorProto.DataType.FLOAT_VALUE).addFloatData(value));
        return name;
    }

    public OnnxMl.ModelProto build(String producerVersion, Map<String, String> metadata) {
        OnnxMl.ModelProto.Builder m = OnnxMl.ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("starspec")
                .setProducerVersion(producerVersion)
                .setGraph(graph);
        m.addOpsetImportBuilder().setDomain("").setVersion(OPSET);
        m.addOpsetImportBuilder().setDomain(MS_DOMAIN).setVersion(1);
        metadata.forEach((k, v) -> m.addMetadataProps(entry(k, v)));
        return m.build();
    }

    private String claim(String name) {
        if (!names.add(name)) {
            throw new IllegalStateException("graph value " + name + " defined twice");
        }
        return name;
    }

    private static OnnxMl.StringStringEntryProto entry(String key, String value) {
        return OnnxMl.StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    private static ValueInfoProto valueInfo(String name, int elemType, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            if (d instanceof Number n) {
                shape.addDimBuilder().setDimValue(n.longValue());
            } else {
                shape.addDimBuilder().setDimParam(d.toString());
            }
        }
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(
                        TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape)))
                .build();
    }

    private static void requireCount(String name, long count, long... dims) {
        long expected = 1;
        for (long d : dims) {
            expected *= d;
        }
        if (expected != count) {
            throw new IllegalArgumentException(name + ": " + count + " values for shape " + Arrays.toString(dims));
        }
    }
}
