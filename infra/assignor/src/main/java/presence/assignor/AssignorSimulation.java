package presence.assignor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.coordinator.group.api.assignor.ConsumerGroupPartitionAssignor;
import org.apache.kafka.coordinator.group.api.assignor.GroupAssignment;
import org.apache.kafka.coordinator.group.api.assignor.GroupSpec;
import org.apache.kafka.coordinator.group.api.assignor.MemberAssignment;
import org.apache.kafka.coordinator.group.api.assignor.MemberSubscription;
import org.apache.kafka.coordinator.group.api.assignor.SubscribedTopicDescriber;
import org.apache.kafka.coordinator.group.api.assignor.SubscriptionType;

/**
 * Replays a scale-out/in sequence through the broker's own assignors —
 * Kafka's built-in range and uniform (loaded by class name from the broker
 * classpath) and ours — on the same per-partition loads, as the coordinator
 * would call them: three co-partitioned input topics (the event managers'),
 * each step starting from the previous step's assignment. Load sits on the
 * signaling topic (the other two carry little). Prints one JSON object per
 * assignor and step. Run with the broker's jars on the classpath:
 *   java -cp classes:lib/kafka-4.1.1/* presence.assignor.AssignorSimulation <loads csv> <member counts csv> [threshold]
 */
public final class AssignorSimulation {
    static final Uuid SIGNALING = new Uuid(1, 1), SUBSCRIPTIONS = new Uuid(1, 2), REPORTS = new Uuid(1, 3);
    static final List<Uuid> TOPICS = List.of(SIGNALING, SUBSCRIPTIONS, REPORTS);

    record Sub(Optional<String> rackId, Optional<String> instanceId, Set<Uuid> subscribedTopicIds) implements MemberSubscription {}

    record Owned(Map<Uuid, Set<Integer>> partitions) implements MemberAssignment {}

    public static void main(String[] args) throws Exception {
        double[] load = java.util.Arrays.stream(args[0].split(",")).mapToDouble(Double::parseDouble).toArray();
        int[] steps = java.util.Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray();
        double threshold = args.length > 2 ? Double.parseDouble(args[2]) : 0.1;
        int n = load.length;
        SubscribedTopicDescriber topics = new SubscribedTopicDescriber() {
            public int numPartitions(Uuid t) { return n; }
            public Set<String> racksForPartition(Uuid t, int p) { return Set.of(); }
        };
        Map<String, ConsumerGroupPartitionAssignor> assignors = new LinkedHashMap<>();
        assignors.put("range", (ConsumerGroupPartitionAssignor) Class.forName("org.apache.kafka.coordinator.group.assignor.RangeAssignor").getDeclaredConstructor().newInstance());
        assignors.put("uniform", (ConsumerGroupPartitionAssignor) Class.forName("org.apache.kafka.coordinator.group.assignor.UniformAssignor").getDeclaredConstructor().newInstance());
        LoadReports reports = new LoadReports("unused:0", "event-manager-members", Duration.ofSeconds(1)) {
            @Override public synchronized void start() {}
        };
        assignors.put("load", new LoadAwareAssignor(reports, Long.MAX_VALUE / 4, threshold));

        for (Map.Entry<String, ConsumerGroupPartitionAssignor> e : assignors.entrySet()) {
            // member id → topic → partitions
            Map<String, Map<Uuid, Set<Integer>>> current = new LinkedHashMap<>();
            long clock = 1;
            for (int step = 0; step < steps.length; step++) {
                int k = steps[step];
                Map<String, Map<Uuid, Set<Integer>>> before = new LinkedHashMap<>();
                for (int i = 1; i <= k; i++) before.put("em-" + i, current.getOrDefault("em-" + i, java.util.Collections.emptyMap()));
                // What the event managers would have reported: the load of what each owns now.
                for (Map.Entry<String, Map<Uuid, Set<Integer>>> m : before.entrySet()) {
                    List<MemberReport.PartitionLoad> pl = new ArrayList<>();
                    for (int p : m.getValue().getOrDefault(SIGNALING, Set.of())) pl.add(new MemberReport.PartitionLoad(p, load[p], 0));
                    reports.put("sim.event-manager-members", new MemberReport(m.getKey(), List.of(), pl, 0, 0, clock++, false));
                }
                GroupSpec spec = spec(before);
                long t0 = System.nanoTime();
                GroupAssignment out = e.getValue().assign(spec, topics);
                long micros = (System.nanoTime() - t0) / 1000;
                Map<String, Map<Uuid, Set<Integer>>> after = new LinkedHashMap<>();
                for (String m : before.keySet()) after.put(m, copy(out.members().get(m).partitions()));
                print(e.getKey(), step, k, load, current, after, micros);
                current = after;
            }
        }
    }

    static Map<Uuid, Set<Integer>> copy(Map<Uuid, Set<Integer>> m) {
        // Immutable, as the coordinator hands them over (the built-in assignors check).
        Map<Uuid, Set<Integer>> c = new HashMap<>();
        m.forEach((t, ps) -> c.put(t, Set.copyOf(ps)));
        return java.util.Collections.unmodifiableMap(c);
    }

    static GroupSpec spec(Map<String, Map<Uuid, Set<Integer>>> members) {
        return new GroupSpec() {
            public Collection<String> memberIds() { return members.keySet(); }
            public SubscriptionType subscriptionType() { return SubscriptionType.HOMOGENEOUS; }
            public boolean isPartitionAssigned(Uuid t, int p) { return members.values().stream().anyMatch(a -> a.getOrDefault(t, Set.of()).contains(p)); }
            public boolean isPartitionAssignable(Uuid t, int p) { return true; }
            public MemberSubscription memberSubscription(String m) { return new Sub(Optional.of(m), Optional.empty(), Set.copyOf(TOPICS)); }
            public MemberAssignment memberAssignment(String m) { return new Owned(members.get(m)); }
        };
    }

    static void print(String assignor, int step, int k, double[] load, Map<String, Map<Uuid, Set<Integer>>> before, Map<String, Map<Uuid, Set<Integer>>> after, long micros) {
        double total = java.util.Arrays.stream(load).sum();
        double max = 0;
        StringBuilder loads = new StringBuilder();
        StringBuilder parts = new StringBuilder();
        for (Map.Entry<String, Map<Uuid, Set<Integer>>> m : after.entrySet()) {
            Set<Integer> sig = m.getValue().getOrDefault(SIGNALING, Set.of());
            double l = sig.stream().mapToDouble(p -> load[p]).sum();
            max = Math.max(max, l);
            loads.append(loads.length() > 0 ? "," : "").append(String.format(Locale.ROOT, "\"%s\":%.1f", m.getKey(), l));
            parts.append(parts.length() > 0 ? "," : "").append(String.format("\"%s\":\"%s\"", m.getKey(), sig.toString().replace(" ", "")));
        }
        // Moves: topic-partitions whose owner changed, departed members' included (a partition that had no owner is not a move).
        Map<String, String> ownerBefore = new HashMap<>();
        before.forEach((m, a) -> a.forEach((t, ps) -> ps.forEach(p -> ownerBefore.put(t + "/" + p, m))));
        int moved = 0, movedSignaling = 0;
        for (Map.Entry<String, Map<Uuid, Set<Integer>>> m : after.entrySet()) {
            for (Map.Entry<Uuid, Set<Integer>> tp : m.getValue().entrySet()) {
                for (int p : tp.getValue()) {
                    String was = ownerBefore.get(tp.getKey() + "/" + p);
                    if (was != null && !was.equals(m.getKey())) {
                        moved++;
                        if (tp.getKey().equals(SIGNALING)) movedSignaling++;
                    }
                }
            }
        }
        // Co-partitioning: partition numbers whose three topics are not all on one member.
        int split = 0;
        for (int p = 0; p < load.length; p++) {
            Set<String> owners = new TreeSet<>();
            for (Map.Entry<String, Map<Uuid, Set<Integer>>> m : after.entrySet()) {
                for (Uuid t : TOPICS) if (m.getValue().getOrDefault(t, Set.of()).contains(p)) owners.add(m.getKey());
            }
            if (owners.size() != 1) split++;
        }
        System.out.println(String.format(Locale.ROOT,
            "{\"assignor\":\"%s\",\"step\":%d,\"members\":%d,\"maxOverMean\":%.3f,\"movedTopicPartitions\":%d,\"movedSignaling\":%d,\"splitPartitions\":%d,\"assignMicros\":%d,\"load\":{%s},\"signalingPartitions\":{%s}}",
            assignor, step, k, max / (total / k), moved, movedSignaling, split, micros, loads, parts));
    }
}
