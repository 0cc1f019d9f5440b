package presence.assignor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Places partition numbers on members by load (Tekelec claims 3, 13, 20):
 * sticky first (a member keeps what it owns), then orphans largest-first onto
 * the member with the lowest load per unit of capacity, then moves from
 * members loaded beyond {@code threshold} above their share until no single
 * move lowers the peak. With no load figures every partition weighs 1, which
 * makes it a sticky assignor balanced by count.
 *
 * Pure: no Kafka types, so it is unit-tested and simulated directly.
 */
public final class LoadPlacement {
    private LoadPlacement() {}

    /** A group member: its capacity weight (> 0) and the partitions it owns now. */
    public record Member(String id, double weight, Set<Integer> current) {
        public Member {
            if (!(weight > 0) || Double.isInfinite(weight)) throw new IllegalArgumentException("member " + id + " has weight " + weight + "; it must be a positive number");
        }
    }

    /** Moves from an overloaded member at most this many times the partition count (a bound, never reached in practice). */
    private static final int MAX_MOVES_PER_PARTITION = 4;

    /**
     * @param partitions number of partitions (0 .. partitions-1)
     * @param members    the group's members; ids must be distinct
     * @param load       per-partition load, NaN (or a shorter array) where unknown
     * @param threshold  tolerated excess over a member's fair share before partitions move (0.1 = 10%)
     * @return member id → partitions, every partition exactly once (members in the given order)
     */
    public static Map<String, Set<Integer>> place(int partitions, List<Member> members, double[] load, double threshold) {
        Map<String, Set<Integer>> out = new LinkedHashMap<>();
        for (Member m : members) {
            if (out.put(m.id(), new TreeSet<>()) != null) throw new IllegalArgumentException("duplicate member id " + m.id());
        }
        if (members.isEmpty() || partitions <= 0) return out;
        double[] w = effectiveLoad(partitions, load);
        Map<String, Double> weight = new HashMap<>();
        Map<String, Double> sum = new HashMap<>();
        for (Member m : members) {
            weight.put(m.id(), m.weight());
            sum.put(m.id(), 0.0);
        }

        // 1. Sticky: keep current owners (first claim wins if two members report the same partition).
        boolean[] placed = new boolean[partitions];
        for (Member m : members) {
            for (int p : m.current()) {
                if (p < 0 || p >= partitions || placed[p]) continue;
                placed[p] = true;
                out.get(m.id()).add(p);
                sum.merge(m.id(), w[p], Double::sum);
            }
        }

        // 2. Orphans, heaviest first, each to the member whose relative load after taking it is lowest.
        List<Integer> orphans = new ArrayList<>();
        for (int p = 0; p < partitions; p++) if (!placed[p]) orphans.add(p);
        orphans.sort(Comparator.<Integer>comparingDouble(p -> -w[p]).thenComparingInt(p -> p));
        for (int p : orphans) {
            Member best = null;
            double bestScore = Double.POSITIVE_INFINITY;
            for (Member m : members) {
                double score = (sum.get(m.id()) + w[p]) / m.weight();
                if (score < bestScore - 1e-12 || (Math.abs(score - bestScore) <= 1e-12 && best != null && out.get(m.id()).size() < out.get(best.id()).size())) {
                    best = m;
                    bestScore = score;
                }
            }
            out.get(best.id()).add(p);
            sum.merge(best.id(), w[p], Double::sum);
        }

        // 3. Rebalance: while some member is above (1 + threshold) × fair share, move the partition
        //    that most lowers the pair's peak to the least loaded member, if that lowers it at all.
        double total = Arrays.stream(w).sum();
        double totalWeight = members.stream().mapToDouble(Member::weight).sum();
        double limit = (1 + threshold) * total / totalWeight;
        for (int moves = 0; moves < MAX_MOVES_PER_PARTITION * partitions; moves++) {
            Member lo = members.stream().min(Comparator.comparingDouble(m -> sum.get(m.id()) / m.weight())).orElseThrow();
            List<Member> over = members.stream()
                .filter(m -> sum.get(m.id()) / m.weight() > limit + 1e-12)
                .sorted(Comparator.comparingDouble(m -> -sum.get(m.id()) / m.weight()))
                .toList();
            boolean moved = false;
            for (Member hi : over) {
                if (hi == lo) continue;
                double hiRel = sum.get(hi.id()) / hi.weight();
                int bestP = -1;
                double bestPeak = hiRel - 1e-9; // a move must lower the pair's peak
                for (int p : out.get(hi.id())) {
                    double peak = Math.max((sum.get(hi.id()) - w[p]) / hi.weight(), (sum.get(lo.id()) + w[p]) / lo.weight());
                    if (peak < bestPeak) {
                        bestPeak = peak;
                        bestP = p;
                    }
                }
                if (bestP >= 0) {
                    out.get(hi.id()).remove(bestP);
                    out.get(lo.id()).add(bestP);
                    sum.merge(hi.id(), -w[bestP], Double::sum);
                    sum.merge(lo.id(), w[bestP], Double::sum);
                    moved = true;
                    break;
                }
            }
            if (!moved) break;
        }
        return out;
    }

    /**
     * Unknown partitions weigh the mean of the known ones (1 when none is known);
     * every partition gets a small floor so idle ones still spread by count.
     */
    static double[] effectiveLoad(int partitions, double[] load) {
        double known = 0;
        int n = 0;
        for (int p = 0; p < partitions; p++) {
            double v = load != null && p < load.length ? load[p] : Double.NaN;
            if (!Double.isNaN(v) && v >= 0 && !Double.isInfinite(v)) {
                known += v;
                n++;
            }
        }
        double mean = n == 0 ? 1.0 : known / n;
        double floor = Math.max(mean, 1e-9) * 1e-3;
        if (n > 0 && known == 0) floor = 1.0; // all idle: balance by count
        double[] w = new double[partitions];
        for (int p = 0; p < partitions; p++) {
            double v = load != null && p < load.length ? load[p] : Double.NaN;
            boolean ok = !Double.isNaN(v) && v >= 0 && !Double.isInfinite(v);
            w[p] = (ok ? v : mean) + floor;
        }
        return w;
    }
}
