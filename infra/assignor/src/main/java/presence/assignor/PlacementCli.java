package presence.assignor;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Runs {@link LoadPlacement} on a line protocol, so the TypeScript bench can
 * simulate the broker's placement on recorded loads with the very same code:
 * <pre>
 *   partitions 12
 *   threshold 0.1
 *   load 3 250.0            (partition, events/s; unknown partitions omitted)
 *   member em-1 1.0 0,1,2   (id, capacity weight, current partitions, "-" for none)
 *   place                   (prints "member em-1 0,1,2" per member, then "end"; state is kept)
 * </pre>
 *   decode 00000000..       (a MemberReport value in hex: prints its fields)
 * After "place" the members' current partitions become the placement, so a
 * sequence of member lines and "place" commands replays scale-out/in.
 */
public final class PlacementCli {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        int partitions = 0;
        double threshold = 0.1;
        double[] load = new double[0];
        List<LoadPlacement.Member> members = new ArrayList<>();
        for (String line; (line = in.readLine()) != null; ) {
            String[] f = line.trim().split("\\s+");
            if (f[0].isEmpty() || f[0].startsWith("#")) continue;
            switch (f[0]) {
                case "partitions" -> {
                    partitions = Integer.parseInt(f[1]);
                    load = new double[partitions];
                    Arrays.fill(load, Double.NaN);
                }
                case "threshold" -> threshold = Double.parseDouble(f[1]);
                case "load" -> load[Integer.parseInt(f[1])] = Double.parseDouble(f[2]);
                case "clear" -> members.clear();
                case "member" -> {
                    Set<Integer> cur = new TreeSet<>();
                    if (f.length > 3 && !f[3].equals("-")) for (String p : f[3].split(",")) cur.add(Integer.parseInt(p));
                    members.removeIf(m -> m.id().equals(f[1]));
                    members.add(new LoadPlacement.Member(f[1], Double.parseDouble(f[2]), cur));
                }
                case "remove" -> members.removeIf(m -> m.id().equals(f[1]));
                case "place" -> {
                    Map<String, Set<Integer>> out = LoadPlacement.place(partitions, members, load, threshold);
                    List<LoadPlacement.Member> next = new ArrayList<>();
                    for (LoadPlacement.Member m : members) {
                        Set<Integer> ps = out.get(m.id());
                        System.out.println("member " + m.id() + " " + (ps.isEmpty() ? "-" : ps.stream().map(String::valueOf).collect(Collectors.joining(","))));
                        next.add(new LoadPlacement.Member(m.id(), m.weight(), ps));
                    }
                    members = next;
                    System.out.println("end");
                    System.out.flush();
                }
                case "decode" -> {
                    // A MemberReport value in hex: checks the hand decoder against the TypeScript serde.
                    MemberReport r = MemberReport.decode(java.util.HexFormat.of().parseHex(f[1]));
                    System.out.println("report " + r.memberId() + " partitions=" + r.partitions() + " loads="
                        + r.partitionLoad().stream().map(l -> l.partition() + ":" + l.eventsPerSecond() + ":" + l.subscribers()).collect(Collectors.joining(","))
                        + " utilization=" + r.utilization() + " capacity=" + r.capacityEventsPerSecond() + " reportedAt=" + r.reportedAt() + " leaving=" + r.leaving());
                }
                default -> throw new IllegalArgumentException("unknown command: " + line);
            }
        }
    }
}
