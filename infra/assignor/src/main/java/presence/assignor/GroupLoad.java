package presence.assignor;

import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the reports say about one group: per-partition load and per-member
 * capacity weight. Under KIP-848 the group member id is a client-generated
 * UUID the event manager cannot report, so a report is matched to a member by
 * the member's group.instance.id or client.rack (the event manager sets
 * client.rack to its member id when it selects this assignor), or by the
 * member id itself. The members topic is the one whose reports match the most
 * members (several topic prefixes can share a broker). Pure, for unit tests.
 */
public record GroupLoad(String topic, double[] load, Map<String, Double> weight, int matchedMembers, int reports) {

    /** How the coordinator identifies a member. */
    public record Identity(String memberId, Optional<String> instanceId, Optional<String> rackId) {
        boolean matches(String reported) {
            return reported.equals(memberId) || instanceId.map(reported::equals).orElse(false) || rackId.map(reported::equals).orElse(false);
        }
    }

    public static GroupLoad of(List<Identity> members, int partitions, Map<String, Collection<MemberReport>> snapshot, long staleMs) {
        String bestTopic = null;
        int bestMatches = 0;
        long bestNewest = Long.MIN_VALUE;
        for (Map.Entry<String, Collection<MemberReport>> e : snapshot.entrySet()) {
            int matches = 0;
            long newest = Long.MIN_VALUE;
            for (MemberReport r : e.getValue()) {
                newest = Math.max(newest, r.reportedAt());
                if (members.stream().anyMatch(m -> m.matches(r.memberId()))) matches++;
            }
            if (matches > bestMatches || (matches == bestMatches && matches > 0 && newest > bestNewest)) {
                bestTopic = e.getKey();
                bestMatches = matches;
                bestNewest = newest;
            }
        }
        double[] load = new double[Math.max(partitions, 0)];
        Arrays.fill(load, Double.NaN);
        Map<String, Double> weight = new HashMap<>();
        for (Identity m : members) weight.put(m.memberId(), 1.0);
        if (bestTopic == null) return new GroupLoad(null, load, weight, 0, 0);

        Collection<MemberReport> reports = snapshot.get(bestTopic);
        long newest = reports.stream().mapToLong(MemberReport::reportedAt).max().orElse(0);
        List<MemberReport> fresh = reports.stream().filter(r -> r.reportedAt() >= newest - staleMs).toList();

        // Per partition: the figure from the freshest report that carries it (its current or last
        // owner, also one that has left the group: its partitions are the ones being reassigned).
        long[] at = new long[load.length];
        Arrays.fill(at, Long.MIN_VALUE);
        for (MemberReport r : fresh) {
            for (MemberReport.PartitionLoad pl : r.partitionLoad()) {
                int p = pl.partition();
                if (p < 0 || p >= load.length || r.reportedAt() < at[p]) continue;
                if (Double.isNaN(pl.eventsPerSecond()) || pl.eventsPerSecond() < 0) continue;
                load[p] = pl.eventsPerSecond();
                at[p] = r.reportedAt();
            }
        }

        // Capacity: as reported; members that report none get the mean of those that do.
        Map<String, MemberReport> byMember = new HashMap<>();
        for (Identity m : members) {
            fresh.stream().filter(r -> m.matches(r.memberId())).max((a, b) -> Long.compare(a.reportedAt(), b.reportedAt()))
                .ifPresent(r -> byMember.put(m.memberId(), r));
        }
        double meanCapacity = byMember.values().stream().mapToDouble(MemberReport::capacityEventsPerSecond).filter(c -> c > 0).average().orElse(0);
        for (Identity m : members) {
            MemberReport r = byMember.get(m.memberId());
            double w = meanCapacity > 0 ? (r != null && r.capacityEventsPerSecond() > 0 ? r.capacityEventsPerSecond() : meanCapacity) / meanCapacity : 1.0;
            weight.put(m.memberId(), w);
        }
        return new GroupLoad(bestTopic, load, weight, byMember.size(), fresh.size());
    }
}
