package dev.biogate;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dependencies between the feature packages point one way: {@link Gateway} wires them, they never import each other
 * in a circle. Read from the sources (imports and fully qualified names), so a cycle fails the build.
 */
class PackageDependenciesTest {

  private static final Pattern REF = Pattern.compile("dev\\.biogate\\.([a-z]+)\\.[A-Z]");

  @Test
  void streamingPackagesNeverDependOnEachOtherBothWays() throws IOException {
    Map<String, Set<String>> deps = dependencies();
    for (String[] pair : new String[][] {{"webhook", "events"}, {"analytics", "sink"}, {"webhook", "ops"},
      {"events", "analytics"}, {"events", "sink"}, {"ops", "events"}}) {
      boolean ab = deps.getOrDefault(pair[0], Set.of()).contains(pair[1]);
      boolean ba = deps.getOrDefault(pair[1], Set.of()).contains(pair[0]);
      assertFalse(ab && ba, pair[0] + " and " + pair[1] + " import each other");
    }
  }

  @Test
  void theStreamEngineDependsOnNoFeature() throws IOException {
    Set<String> stream = dependencies().get("stream");
    assertTrue(stream != null && !stream.isEmpty(), "the stream package was read");
    assertEquals(Set.of("redis"), stream, "the engine uses only the Redis support package");
  }

  private static Map<String, Set<String>> dependencies() throws IOException {
    Path root = Path.of("src/main/java/dev/biogate");
    Map<String, Set<String>> deps = new HashMap<>();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
        Path rel = root.relativize(f.getParent());
        String pkg = rel.toString().isEmpty() ? "" : rel.getName(0).toString();
        Matcher m = REF.matcher(Files.readString(f));
        while (m.find()) {
          if (!m.group(1).equals(pkg)) {
            deps.computeIfAbsent(pkg, k -> new HashSet<>()).add(m.group(1));
          }
        }
      }
    }
    return deps;
  }
}
