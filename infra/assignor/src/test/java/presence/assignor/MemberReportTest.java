package presence.assignor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemberReportTest {
    /** A minimal Avro binary writer, enough for MemberReport. */
    static final class W {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        W varint(long v) {
            long z = (v << 1) ^ (v >> 63);
            while ((z & ~0x7fL) != 0) {
                out.write((int) ((z & 0x7f) | 0x80));
                z >>>= 7;
            }
            out.write((int) z);
            return this;
        }

        W str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            varint(b.length);
            out.writeBytes(b);
            return this;
        }

        W dbl(double d) {
            out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(d).array());
            return this;
        }
    }

    static byte[] report(String id, int[] partitions, double[] eps, double capacity, long reportedAt, boolean leaving) {
        W w = new W();
        w.out.writeBytes(new byte[] {0, 0, 0, 0, 42});
        w.str(id).str("host").varint(1234).varint(1).str("sip:127.0.0.1:5070").varint(0);
        w.varint(partitions.length);
        for (int p : partitions) w.varint(p);
        if (partitions.length > 0) w.varint(0);
        // partitionLoad as one negative-count block (count, byte size), as some writers do.
        if (partitions.length > 0) {
            W items = new W();
            for (int i = 0; i < partitions.length; i++) items.varint(partitions[i]).dbl(eps[i]).varint(1000L * i);
            w.varint(-partitions.length).varint(items.out.size());
            w.out.writeBytes(items.out.toByteArray());
        }
        w.varint(0);
        w.dbl(0.42).dbl(capacity).varint(reportedAt - 60_000).varint(reportedAt);
        w.out.write(leaving ? 1 : 0);
        return w.out.toByteArray();
    }

    @Test
    void decodesTheFieldsTheAssignorUses() {
        MemberReport r = MemberReport.decode(report("em-1", new int[] {3, 7}, new double[] {120.5, 3.25}, 500, 1_700_000_000_000L, true));
        assertEquals("em-1", r.memberId());
        assertEquals(List.of(3, 7), r.partitions());
        assertEquals(2, r.partitionLoad().size());
        assertEquals(7, r.partitionLoad().get(1).partition());
        assertEquals(3.25, r.partitionLoad().get(1).eventsPerSecond());
        assertEquals(1000L, r.partitionLoad().get(1).subscribers());
        assertEquals(0.42, r.utilization());
        assertEquals(500, r.capacityEventsPerSecond());
        assertEquals(1_700_000_000_000L, r.reportedAt());
        assertTrue(r.leaving());
    }

    @Test
    void rejectsMalformedValuesWithAReason() {
        var e = assertThrows(IllegalArgumentException.class, () -> MemberReport.decode(new byte[] {1, 0, 0, 0, 1, 2}));
        assertTrue(e.getMessage().contains("magic"));
        byte[] full = report("em-1", new int[] {1}, new double[] {1}, 0, 1, false);
        byte[] cut = java.util.Arrays.copyOf(full, full.length - 9);
        assertThrows(IllegalArgumentException.class, () -> MemberReport.decode(cut));
        assertThrows(IllegalArgumentException.class, () -> MemberReport.decode(null));
    }
}
