package dev.biogate.stream;

import io.vertx.core.Vertx;
import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;

/**
 * The stream engines' trouble and recovery lines, grouped. When Redis goes away every engine fails at once (33 of
 * them with 16 shards), and a line each buries the one line that says what happened. The first engine to report an
 * event logs it at once; the others reporting the same event (same words, same cause) within {@link #WINDOW_MS} are
 * summed up in one line when that window closes, counted per stream kind. One per process, as the log is.
 */
final class EngineLog {

  static final long WINDOW_MS = 2_000;

  private final Logger log;
  /** Events whose window is open: the names reported after the first. */
  private final Map<String, List<String>> open = new HashMap<>();

  EngineLog(Logger log) {
    this.log = log;
  }

  /** Logs "{name} {event}" at WARN ({@code warn}) or INFO, or adds {@code name} to that event's open window. */
  void report(Vertx vertx, String name, String event, boolean warn) {
    synchronized (this) {
      List<String> others = open.get(event);
      if (others != null) {
        others.add(name);
        return;
      }
      open.put(event, new ArrayList<>());
    }
    write(warn, name + " " + event);
    vertx.setTimer(WINDOW_MS, t -> close(event, warn));
  }

  private void close(String event, boolean warn) {
    List<String> others;
    synchronized (this) {
      others = open.remove(event);
    }
    if (others != null && !others.isEmpty()) {
      write(warn, others.size() + (others.size() == 1 ? " more stream " : " more streams ") + event + ": " + kinds(others));
    }
  }

  private void write(boolean warn, String line) {
    if (warn) {
      log.warn(line);
    } else {
      log.info(line);
    }
  }

  /** {@code "16 of bg:clicks, 1 of bg:out"} for names like {@code bg:clicks:{bg:s3:841}/analytics}. */
  static String kinds(List<String> names) {
    Map<String, Integer> byKind = new TreeMap<>();
    for (String n : names) {
      int tag = n.indexOf(":{");
      int slash = n.indexOf('/');
      String kind = tag > 0 ? n.substring(0, tag) : slash > 0 ? n.substring(0, slash) : n;
      byKind.merge(kind, 1, Integer::sum);
    }
    StringJoiner out = new StringJoiner(", ");
    byKind.forEach((kind, n) -> out.add(n + " of " + kind));
    return out.toString();
  }
}
