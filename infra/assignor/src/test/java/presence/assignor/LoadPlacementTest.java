package presence.assignor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LoadPlacementTest {
    static LoadPlacement.Member m(String id, Integer... current) {
        return new LoadPlacement.Member(id, 1.0, new HashSet<>(Arrays.asList(current)));
    }

    static double sum(Set<Integer> ps, double[] load) {
        return ps.stream().mapToDouble(p -> load[p]).sum();
    }

    static void assertEveryPartitionOnce(int n, Map<String, Set<Integer>> out) {
        List<Integer> all = new ArrayList<>();
        out.values().forEach(all::addAll);
        all.sort(null);
        List<Integer> want = new ArrayList<>();
        for (int p = 0; p < n; p++) want.add(p);
        assertEquals(want, all);
    }

    @Test
    void withoutLoadsItBalancesByCount() {
        Map<String, Set<Integer>> out = LoadPlacement.place(12, List.of(m("a"), m("b"), m("c"), m("d"), m("e")), null, 0.1);
        assertEveryPartitionOnce(12, out);
        for (Set<Integer> ps : out.values()) assertTrue(ps.size() == 2 || ps.size() == 3, out.toString());
    }

    @Test
    void placesHotPartitionsApartRatherThanByCount() {
        // Zipf-like: partition 0 carries as much as the other eleven together.
        double[] load = {600, 150, 100, 75, 60, 50, 43, 38, 33, 30, 27, 25};
        Map<String, Set<Integer>> out = LoadPlacement.place(12, List.of(m("a"), m("b")), load, 0.1);
        assertEveryPartitionOnce(12, out);
        double a = sum(out.get("a"), load), b = sum(out.get("b"), load);
        assertTrue(Math.max(a, b) / ((a + b) / 2) < 1.05, "imbalance " + a + " vs " + b);
        assertTrue(out.get("a").size() != out.get("b").size(), "balanced by load, so not by count: " + out);
    }

    @Test
    void isStickyWhenTheGroupIsWithinTheThreshold() {
        double[] load = {10, 10, 10, 10, 10, 10};
        Map<String, Set<Integer>> out = LoadPlacement.place(6, List.of(m("a", 0, 1, 2), m("b", 3, 4, 5)), load, 0.1);
        assertEquals(Set.of(0, 1, 2), out.get("a"));
        assertEquals(Set.of(3, 4, 5), out.get("b"));
    }

    @Test
    void aNewMemberTakesLoadFromTheBusiestWithFewMoves() {
        double[] load = {100, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10};
        var before = List.of(m("a", 0, 1, 2, 3, 4, 5), m("b", 6, 7, 8, 9, 10, 11));
        Map<String, Set<Integer>> out = LoadPlacement.place(12, new ArrayList<>(List.of(before.get(0), before.get(1), m("c"))), load, 0.1);
        assertEveryPartitionOnce(12, out);
        int moved = 0;
        for (var mem : before) for (int p : mem.current()) if (!out.get(mem.id()).contains(p)) moved++;
        double max = out.values().stream().mapToDouble(ps -> sum(ps, load)).max().orElseThrow();
        // total 210, fair share 70; the 100-load partition alone sets the floor of the peak.
        assertTrue(max <= 100 + 1e-9, "peak " + max + " " + out);
        assertTrue(moved <= 6, "moved " + moved + " " + out);
        assertTrue(!out.get("c").isEmpty());
    }

    @Test
    void aLeavingMembersPartitionsGoToTheLeastLoaded() {
        double[] load = {50, 50, 5, 5, 5, 5};
        Map<String, Set<Integer>> out = LoadPlacement.place(6, List.of(m("a", 0, 2), m("b", 1, 3)), load, 0.1);
        // c (4, 5) left; its 10 split so both stay near 60.
        assertEveryPartitionOnce(6, out);
        assertEquals(60, sum(out.get("a"), load), 1e-9);
        assertEquals(60, sum(out.get("b"), load), 1e-9);
    }

    @Test
    void capacityWeightsTheShares() {
        double[] load = new double[12];
        Arrays.fill(load, 10);
        var big = new LoadPlacement.Member("big", 3.0, Set.of());
        var small = new LoadPlacement.Member("small", 1.0, Set.of());
        Map<String, Set<Integer>> out = LoadPlacement.place(12, List.of(big, small), load, 0.1);
        assertEquals(9, out.get("big").size());
        assertEquals(3, out.get("small").size());
    }

    @Test
    void unknownPartitionsWeighTheMeanOfKnownOnes() {
        double[] w = LoadPlacement.effectiveLoad(4, new double[] {10, Double.NaN, 30, Double.NaN});
        assertEquals(20, w[1], 0.1);
        assertEquals(w[1], w[3], 1e-12);
    }

    @Test
    void rejectsNonPositiveWeightsAndDuplicateIds() {
        assertThrows(IllegalArgumentException.class, () -> new LoadPlacement.Member("x", 0, Set.of()));
        assertThrows(IllegalArgumentException.class, () -> LoadPlacement.place(2, List.of(m("a"), m("a")), null, 0.1));
    }

    @Test
    void ignoresCurrentPartitionsThatNoLongerExistAndDoubleClaims() {
        Map<String, Set<Integer>> out = LoadPlacement.place(3, List.of(m("a", 0, 1, 7), m("b", 1)), null, 0.1);
        assertEveryPartitionOnce(3, out);
        assertTrue(out.get("a").containsAll(Set.of(0)));
    }
}
