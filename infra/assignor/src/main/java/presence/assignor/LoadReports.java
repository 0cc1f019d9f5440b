package presence.assignor;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The latest MemberReport per member of every `*event-manager-members` topic
 * (one per topic prefix), read by a daemon thread in the broker with a plain
 * assigned consumer (no group of its own). The assignor must never block, so
 * it reads this snapshot; until the first poll it is empty and the assignor
 * places by count.
 */
public class LoadReports implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LoadReports.class);

    private final String bootstrap;
    private final String topicSuffix;
    private final Duration refresh;
    /**
     * topic → member id → latest report. A tombstone (clean stop) does NOT remove it: a departed
     * member's last figures are the best estimate of its partitions' load when they are reassigned.
     * Reports older than {@link #RETAIN_MS} are dropped.
     */
    private final Map<String, Map<String, MemberReport>> byTopic = new ConcurrentHashMap<>();
    static final long RETAIN_MS = 3_600_000;
    private volatile boolean running;
    private long applied;
    private long appliedLogged;
    private Thread thread;

    public LoadReports(String bootstrap, String topicSuffix, Duration refresh) {
        this.bootstrap = bootstrap;
        this.topicSuffix = topicSuffix;
        this.refresh = refresh;
    }

    /** Starts the reader once; later calls do nothing. */
    public synchronized void start() {
        if (thread != null) return;
        running = true;
        thread = new Thread(this::run, "presence-load-reports");
        thread.setDaemon(true);
        thread.start();
    }

    /** The current reports, per topic. */
    public Map<String, Collection<MemberReport>> snapshot() {
        Map<String, Collection<MemberReport>> out = new HashMap<>();
        byTopic.forEach((t, m) -> out.put(t, List.copyOf(m.values())));
        return out;
    }

    private void run() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "presence-load-assignor");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "200");
        long lastDiscovery = 0;
        while (running) {
            try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                Set<TopicPartition> assigned = new HashSet<>();
                Map<TopicPartition, Long> stalledAt = Map.of();
                while (running) {
                    long now = System.currentTimeMillis();
                    if (now - lastDiscovery > 5 * refresh.toMillis() || assigned.isEmpty()) {
                        lastDiscovery = now;
                        if (applied != appliedLogged) {
                            log.debug("load reports: {} records read so far", applied);
                            appliedLogged = applied;
                        }
                        long cutoff = System.currentTimeMillis() - RETAIN_MS;
                        byTopic.values().forEach(m -> m.values().removeIf(r -> r.reportedAt() < cutoff));
                        Set<TopicPartition> want = new HashSet<>();
                        for (Map.Entry<String, List<PartitionInfo>> e : c.listTopics(Duration.ofSeconds(5)).entrySet()) {
                            if (!e.getKey().endsWith(topicSuffix)) continue;
                            for (PartitionInfo pi : e.getValue()) want.add(new TopicPartition(pi.topic(), pi.partition()));
                        }
                        if (!want.equals(assigned)) {
                            Set<TopicPartition> added = new HashSet<>(want);
                            added.removeAll(assigned);
                            c.assign(want);
                            c.seekToBeginning(added);
                            byTopic.keySet().removeIf(t -> want.stream().noneMatch(tp -> tp.topic().equals(t)));
                            assigned = want;
                            log.info("load reports: reading {} partitions of {} members topics", want.size(), want.stream().map(TopicPartition::topic).distinct().count());
                        } else if (!assigned.isEmpty()) {
                            // Watchdog: records waiting but no progress over a whole interval (seen once
                            // in a first test run after topic churn) — start over with a new consumer.
                            Map<TopicPartition, Long> end = c.endOffsets(assigned, Duration.ofSeconds(5));
                            Map<TopicPartition, Long> pos = new HashMap<>();
                            for (TopicPartition tp : assigned) pos.put(tp, c.position(tp, Duration.ofSeconds(5)));
                            boolean behind = assigned.stream().anyMatch(tp -> pos.get(tp) < end.getOrDefault(tp, 0L));
                            if (behind && pos.equals(stalledAt)) throw new IllegalStateException("no progress reading " + pos + " (end " + end + ")");
                            stalledAt = behind ? pos : Map.of();
                        }
                    }
                    if (assigned.isEmpty()) {
                        sleep(refresh.toMillis());
                        continue;
                    }
                    for (ConsumerRecord<byte[], byte[]> r : c.poll(refresh)) apply(r);
                }
            } catch (RuntimeException e) {
                log.warn("load reports: reader failed ({}); retrying", e.toString());
                sleep(2000);
            }
        }
    }

    private void apply(ConsumerRecord<byte[], byte[]> r) {
        applied++;
        if (r.key() == null) return;
        String key = new String(r.key(), java.nio.charset.StandardCharsets.UTF_8);
        Map<String, MemberReport> members = byTopic.computeIfAbsent(r.topic(), t -> new ConcurrentHashMap<>());
        if (r.value() == null) return;
        try {
            members.put(key, MemberReport.decode(r.value()));
        } catch (IllegalArgumentException e) {
            log.warn("load reports: skipping {}-{}@{} (key {}): {}", r.topic(), r.partition(), r.offset(), key, e.getMessage());
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running = false;
    }

    /** For tests and the simulation: reports put directly, as the reader would. */
    void put(String topic, MemberReport report) {
        byTopic.computeIfAbsent(topic, t -> new ConcurrentHashMap<>()).put(report.memberId(), report);
    }
}
