package presence.assignor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.coordinator.group.api.assignor.ConsumerGroupPartitionAssignor;
import org.apache.kafka.coordinator.group.api.assignor.GroupAssignment;
import org.apache.kafka.coordinator.group.api.assignor.GroupSpec;
import org.apache.kafka.coordinator.group.api.assignor.MemberAssignment;
import org.apache.kafka.coordinator.group.api.assignor.MemberSubscription;
import org.apache.kafka.coordinator.group.api.assignor.PartitionAssignorException;
import org.apache.kafka.coordinator.group.api.assignor.SubscribedTopicDescriber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Server-side (KIP-848) assignor "load": partition numbers — the same number
 * of every subscribed topic, so co-partitioned topics stay together — placed
 * by the load the event managers report on their members topic (see
 * {@link LoadPlacement}). Enabled in the broker with
 * {@code group.consumer.assignors=uniform,range,presence.assignor.LoadAwareAssignor},
 * selected by a member with {@code group.remote.assignor=load}.
 *
 * The broker does not configure assignors, so settings are JVM system properties:
 * presence.assignor.bootstrap (default 127.0.0.1:9092), presence.assignor.topicSuffix
 * (event-manager-members), presence.assignor.refreshMs (1000),
 * presence.assignor.staleMs (120000), presence.assignor.threshold (0.1).
 */
public final class LoadAwareAssignor implements ConsumerGroupPartitionAssignor {
    private static final Logger log = LoggerFactory.getLogger(LoadAwareAssignor.class);
    public static final String NAME = "load";

    private final LoadReports reports;
    private final long staleMs;
    private final double threshold;

    public LoadAwareAssignor() {
        this(new LoadReports(
                System.getProperty("presence.assignor.bootstrap", "127.0.0.1:9092"),
                System.getProperty("presence.assignor.topicSuffix", "event-manager-members"),
                Duration.ofMillis(Long.getLong("presence.assignor.refreshMs", 1000))),
            Long.getLong("presence.assignor.staleMs", 120_000),
            Double.parseDouble(System.getProperty("presence.assignor.threshold", "0.1")));
    }

    LoadAwareAssignor(LoadReports reports, long staleMs, double threshold) {
        this.reports = reports;
        this.staleMs = staleMs;
        this.threshold = threshold;
    }

    @Override
    public String name() {
        return NAME;
    }

    private record Assignment(Map<Uuid, Set<Integer>> partitions) implements MemberAssignment {}

    @Override
    public GroupAssignment assign(GroupSpec group, SubscribedTopicDescriber topics) throws PartitionAssignorException {
        // The broker's listener is up by the first assignment: start reading reports now.
        reports.start();
        List<String> memberIds = new ArrayList<>(group.memberIds());
        memberIds.sort(null);
        Map<Uuid, Integer> partitionCount = new HashMap<>();
        Map<String, Set<Uuid>> subscribed = new HashMap<>();
        for (String m : memberIds) {
            MemberSubscription sub = group.memberSubscription(m);
            subscribed.put(m, sub.subscribedTopicIds());
            for (Uuid t : sub.subscribedTopicIds()) {
                int n = topics.numPartitions(t);
                if (n > 0) partitionCount.put(t, n);
            }
        }
        int partitions = partitionCount.values().stream().mapToInt(Integer::intValue).max().orElse(0);

        List<GroupLoad.Identity> identities = new ArrayList<>();
        for (String m : memberIds) {
            MemberSubscription sub = group.memberSubscription(m);
            identities.add(new GroupLoad.Identity(m, sub.instanceId(), sub.rackId()));
        }
        GroupLoad view;
        try {
            view = GroupLoad.of(identities, partitions, reports.snapshot(), staleMs);
        } catch (RuntimeException e) {
            log.warn("load assignor: ignoring reports ({}); placing by count", e.toString());
            view = GroupLoad.of(identities, partitions, Map.of(), staleMs);
        }

        // Current owner of each partition number: any topic's owner (co-partitioned topics agree).
        List<LoadPlacement.Member> members = new ArrayList<>();
        Map<String, Set<Integer>> current = new HashMap<>();
        for (String m : memberIds) {
            Set<Integer> owned = new TreeSet<>();
            for (Set<Integer> ps : group.memberAssignment(m).partitions().values()) owned.addAll(ps);
            current.put(m, owned);
            members.add(new LoadPlacement.Member(m, view.weight().getOrDefault(m, 1.0), owned));
        }
        Map<String, Set<Integer>> placed = LoadPlacement.place(partitions, members, view.load(), threshold);

        Map<String, MemberAssignment> out = new LinkedHashMap<>();
        for (String m : memberIds) out.put(m, new Assignment(new HashMap<>()));
        Map<Uuid, Integer> roundRobin = new HashMap<>();
        int moved = 0;
        for (String m : memberIds) {
            for (int p : placed.get(m)) {
                if (!current.get(m).contains(p)) moved++;
                for (Uuid t : partitionCount.keySet()) {
                    if (p >= partitionCount.get(t) || !group.isPartitionAssignable(t, p)) continue;
                    String owner = m;
                    if (!subscribed.get(m).contains(t)) {
                        // Heterogeneous subscriptions (e.g. mid-upgrade): give it to some subscriber of t.
                        List<String> subs = memberIds.stream().filter(x -> subscribed.get(x).contains(t)).toList();
                        int i = roundRobin.merge(t, 1, Integer::sum);
                        owner = subs.get(i % subs.size());
                    }
                    out.get(owner).partitions().computeIfAbsent(t, x -> new HashSet<>()).add(p);
                }
            }
        }
        if (log.isInfoEnabled()) {
            StringBuilder sb = new StringBuilder();
            for (String m : memberIds) {
                double sum = 0;
                for (int p : placed.get(m)) sum += Double.isNaN(view.load()[p]) ? 0 : view.load()[p];
                sb.append(' ').append(label(identities, m)).append('=').append(placed.get(m)).append(String.format("@%.1f", sum));
            }
            log.info("load assignor: {} members, {} partitions, {} moved, reports from {} ({} reports, {} members matched):{}",
                memberIds.size(), partitions, moved, view.topic(), view.reports(), view.matchedMembers(), sb);
        }
        return new GroupAssignment(out);
    }

    private static String label(List<GroupLoad.Identity> ids, String memberId) {
        for (GroupLoad.Identity i : ids) {
            if (i.memberId().equals(memberId)) return i.instanceId().or(i::rackId).orElse(memberId);
        }
        return memberId;
    }
}
