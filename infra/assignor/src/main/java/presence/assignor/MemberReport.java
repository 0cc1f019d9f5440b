package presence.assignor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields of an event manager's MemberReport (schemas/avro/MemberReport.avsc)
 * the assignor needs, decoded by hand from the Confluent wire format (magic 0,
 * 4-byte schema id, Avro binary) so the broker needs no Avro library. The
 * field order below IS the schema's: change both together (the integration
 * test decodes reports written by the TypeScript serde).
 */
public record MemberReport(
    String memberId,
    List<Integer> partitions,
    List<PartitionLoad> partitionLoad,
    double utilization,
    double capacityEventsPerSecond,
    long reportedAt,
    boolean leaving) {

    public record PartitionLoad(int partition, double eventsPerSecond, long subscribers) {}

    /** Decodes one record value; throws IllegalArgumentException on anything malformed. */
    public static MemberReport decode(byte[] value) {
        if (value == null || value.length < 5) throw new IllegalArgumentException("not a Confluent-framed Avro record (" + (value == null ? "null" : value.length + " bytes") + ")");
        if (value[0] != 0) throw new IllegalArgumentException("unknown wire-format magic byte " + value[0]);
        Reader r = new Reader(ByteBuffer.wrap(value, 5, value.length - 5).order(ByteOrder.LITTLE_ENDIAN));
        try {
            String memberId = r.string();
            r.string(); // host
            r.varint(); // pid
            r.optionalString(); // sipContact
            r.optionalString(); // httpUrl
            List<Integer> partitions = new ArrayList<>();
            for (long n; (n = r.blockCount()) != 0; ) for (long i = 0; i < n; i++) partitions.add((int) r.varint());
            List<PartitionLoad> loads = new ArrayList<>();
            for (long n; (n = r.blockCount()) != 0; ) {
                for (long i = 0; i < n; i++) loads.add(new PartitionLoad((int) r.varint(), r.dbl(), r.varint()));
            }
            double utilization = r.dbl();
            double capacity = r.dbl();
            r.varint(); // startedAt
            long reportedAt = r.varint();
            boolean leaving = r.bool();
            return new MemberReport(memberId, partitions, loads, utilization, capacity, reportedAt, leaving);
        } catch (RuntimeException e) {
            if (e instanceof IllegalArgumentException) throw e;
            throw new IllegalArgumentException("truncated or malformed MemberReport: " + e, e);
        }
    }

    private static final class Reader {
        private final ByteBuffer b;

        Reader(ByteBuffer b) {
            this.b = b;
        }

        long varint() {
            long raw = 0;
            int shift = 0;
            while (true) {
                byte x = b.get();
                raw |= (long) (x & 0x7f) << shift;
                if ((x & 0x80) == 0) break;
                shift += 7;
                if (shift > 63) throw new IllegalArgumentException("varint too long");
            }
            return (raw >>> 1) ^ -(raw & 1); // zig-zag
        }

        String string() {
            long len = varint();
            if (len < 0 || len > b.remaining()) throw new IllegalArgumentException("bad string length " + len);
            byte[] s = new byte[(int) len];
            b.get(s);
            return new String(s, StandardCharsets.UTF_8);
        }

        String optionalString() {
            long branch = varint();
            if (branch == 0) return null;
            if (branch == 1) return string();
            throw new IllegalArgumentException("bad union branch " + branch);
        }

        /** An array block's item count (a negative count is followed by the block's byte size). */
        long blockCount() {
            long n = varint();
            if (n < 0) {
                varint();
                n = -n;
            }
            return n;
        }

        double dbl() {
            return b.getDouble();
        }

        boolean bool() {
            return b.get() != 0;
        }
    }
}
