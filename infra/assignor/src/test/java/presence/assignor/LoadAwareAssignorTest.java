package presence.assignor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.coordinator.group.api.assignor.GroupAssignment;
import org.apache.kafka.coordinator.group.api.assignor.GroupSpec;
import org.apache.kafka.coordinator.group.api.assignor.MemberAssignment;
import org.apache.kafka.coordinator.group.api.assignor.MemberSubscription;
import org.apache.kafka.coordinator.group.api.assignor.SubscribedTopicDescriber;
import org.apache.kafka.coordinator.group.api.assignor.SubscriptionType;
import org.junit.jupiter.api.Test;

class LoadAwareAssignorTest {
    static final Uuid SIGNALING = Uuid.randomUuid(), SUBSCRIPTIONS = Uuid.randomUuid(), REPORTS = Uuid.randomUuid();
    static final Set<Uuid> ALL = Set.of(SIGNALING, SUBSCRIPTIONS, REPORTS);

    record Sub(Optional<String> rackId, Optional<String> instanceId, Set<Uuid> subscribedTopicIds) implements MemberSubscription {}

    record Owned(Map<Uuid, Set<Integer>> partitions) implements MemberAssignment {}

    /** A group of members (uuid → rack = stable member id) with their current assignments. */
    static GroupSpec group(Map<String, String> rackByUuid, Map<String, Set<Integer>> owned) {
        return new GroupSpec() {
            public java.util.Collection<String> memberIds() { return rackByUuid.keySet(); }
            public SubscriptionType subscriptionType() { return SubscriptionType.HOMOGENEOUS; }
            public boolean isPartitionAssigned(Uuid t, int p) { return owned.values().stream().anyMatch(s -> s.contains(p)); }
            public boolean isPartitionAssignable(Uuid t, int p) { return true; }
            public MemberSubscription memberSubscription(String m) { return new Sub(Optional.of(rackByUuid.get(m)), Optional.empty(), ALL); }
            public MemberAssignment memberAssignment(String m) {
                Map<Uuid, Set<Integer>> a = new HashMap<>();
                Set<Integer> ps = owned.getOrDefault(m, Set.of());
                if (!ps.isEmpty()) for (Uuid t : ALL) a.put(t, ps);
                return new Owned(a);
            }
        };
    }

    static final SubscribedTopicDescriber TWELVE = new SubscribedTopicDescriber() {
        public int numPartitions(Uuid t) { return 12; }
        public Set<String> racksForPartition(Uuid t, int p) { return Set.of(); }
    };

    static MemberReport report(String id, long at, double capacity, double... eps) {
        List<MemberReport.PartitionLoad> loads = new java.util.ArrayList<>();
        for (int p = 0; p < eps.length; p++) if (!Double.isNaN(eps[p])) loads.add(new MemberReport.PartitionLoad(p, eps[p], 10));
        return new MemberReport(id, List.of(), loads, 0.5, capacity, at, false);
    }

    static Set<Integer> partitionsOf(GroupAssignment a, String member) {
        Map<Uuid, Set<Integer>> m = a.members().get(member).partitions();
        Set<Integer> s = new TreeSet<>(m.getOrDefault(SIGNALING, Set.of()));
        // Co-partitioning: every topic carries the same partition numbers.
        assertEquals(s, new TreeSet<>(m.getOrDefault(SUBSCRIPTIONS, Set.of())), "subscriptions differ for " + member);
        assertEquals(s, new TreeSet<>(m.getOrDefault(REPORTS, Set.of())), "delivery-reports differ for " + member);
        return s;
    }

    @Test
    void placesByReportedLoadAndKeepsTopicsCopartitioned() {
        LoadReports reports = new LoadReports("unused:0", "event-manager-members", Duration.ofSeconds(1)) {
            @Override public synchronized void start() {}
        };
        double[] eps = {600, 150, 100, 75, 60, 50, 43, 38, 33, 30, 27, 25};
        reports.put("t1.event-manager-members", report("em-a", 1000, 0, eps));
        reports.put("t1.event-manager-members", report("em-b", 900, 0));
        // Another prefix's group with other member ids must not be picked.
        reports.put("t2.event-manager-members", report("em-x", 5000, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1));
        var assignor = new LoadAwareAssignor(reports, 120_000, 0.1);
        Map<String, String> racks = new LinkedHashMap<>();
        racks.put("uuid-1", "em-a");
        racks.put("uuid-2", "em-b");
        GroupAssignment a = assignor.assign(group(racks, Map.of()), TWELVE);
        Set<Integer> one = partitionsOf(a, "uuid-1"), two = partitionsOf(a, "uuid-2");
        assertEquals(12, one.size() + two.size());
        double l1 = one.stream().mapToDouble(p -> eps[p]).sum(), l2 = two.stream().mapToDouble(p -> eps[p]).sum();
        assertTrue(Math.max(l1, l2) / ((l1 + l2) / 2) < 1.05, l1 + " vs " + l2);
        assertTrue(one.size() != two.size(), "by load, not by count");
    }

    @Test
    void withoutReportsItIsStickyAndBalancedByCount() {
        LoadReports none = new LoadReports("unused:0", "event-manager-members", Duration.ofSeconds(1)) {
            @Override public synchronized void start() {}
        };
        var assignor = new LoadAwareAssignor(none, 120_000, 0.1);
        Map<String, String> racks = new LinkedHashMap<>();
        racks.put("u1", "em-1");
        racks.put("u2", "em-2");
        racks.put("u3", "em-3");
        Map<String, Set<Integer>> owned = Map.of("u1", Set.of(0, 1, 2, 3, 4, 5), "u2", Set.of(6, 7, 8, 9, 10, 11));
        GroupAssignment a = assignor.assign(group(racks, owned), TWELVE);
        assertEquals(4, partitionsOf(a, "u3").size());
        assertTrue(Set.of(0, 1, 2, 3, 4, 5).containsAll(partitionsOf(a, "u1")));
        assertTrue(Set.of(6, 7, 8, 9, 10, 11).containsAll(partitionsOf(a, "u2")));
        assertEquals(4, partitionsOf(a, "u1").size());
    }

    @Test
    void groupLoadMatchesByRackOrInstanceAndWeighsCapacity() {
        Map<String, java.util.Collection<MemberReport>> snap = Map.of(
            "p.event-manager-members", List.of(report("em-a", 100, 300, 5, 5), report("em-b", 100, 100, Double.NaN, Double.NaN, 7)));
        var ids = List.of(new GroupLoad.Identity("u1", Optional.of("em-a"), Optional.empty()), new GroupLoad.Identity("u2", Optional.empty(), Optional.of("em-b")));
        GroupLoad g = GroupLoad.of(ids, 3, snap, 60_000);
        assertEquals("p.event-manager-members", g.topic());
        assertEquals(2, g.matchedMembers());
        assertEquals(1.5, g.weight().get("u1"), 1e-9);
        assertEquals(0.5, g.weight().get("u2"), 1e-9);
        assertEquals(7, g.load()[2]);
        GroupLoad none = GroupLoad.of(List.of(new GroupLoad.Identity("u9", Optional.empty(), Optional.empty())), 3, snap, 60_000);
        assertNull(none.topic());
        assertTrue(Double.isNaN(none.load()[0]));
    }

    @Test
    void aDepartedMembersLastReportStillWeighsItsPartitions() {
        Map<String, java.util.Collection<MemberReport>> snap = Map.of(
            "p.event-manager-members", List.of(report("em-a", 2_000, 0, Double.NaN, 5, 5), report("em-gone", 1_500, 0, 80)));
        var ids = List.of(new GroupLoad.Identity("u1", Optional.empty(), Optional.of("em-a")));
        GroupLoad g = GroupLoad.of(ids, 3, snap, 60_000);
        assertEquals(80, g.load()[0]);
        assertEquals(1, g.matchedMembers());
    }

    @Test
    void staleReportsAreIgnored() {
        Map<String, java.util.Collection<MemberReport>> snap = Map.of(
            "p.event-manager-members", List.of(report("em-a", 1_000_000, 0, 5), report("em-b", 1_000, 0, 999)));
        var ids = List.of(new GroupLoad.Identity("u1", Optional.empty(), Optional.of("em-a")));
        GroupLoad g = GroupLoad.of(ids, 1, snap, 60_000);
        assertEquals(5, g.load()[0]);
    }
}
