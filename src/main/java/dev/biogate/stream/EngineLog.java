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
  private final long windowNanos;
  /** Events whose window is open: when it opened and the names reported after the first. */
  private final Map<String, Window> open = new HashMap<>();

  private record Window(long openedNanos, List<String> others) {
  }

  EngineLog(Logger log) {
    this(log, WINDOW_MS);
  }

  EngineLog(Logger log, long windowMs) {
    this.log = log;
    this.windowNanos = windowMs * 1_000_000;
  }

  /** Logs "{name} {event}" at WARN ({@code warn}) or INFO, or adds {@code name} to that event's open window. */
  void report(Vertx vertx, String name, String event, boolean warn) {
    Window stale = null;
    synchronized (this) {
      Window w = open.get(event);
      // A window whose timer never fired (its Vert.x instance closed meanwhile) is closed here instead.
      if (w != null && System.nanoTime() - w.openedNanos() > 2 * windowNanos) {
        stale = open.remove(event);
        w = null;
      }
      if (w != null) {
        w.others().add(name);
        return;
      }
      open.put(event, new Window(System.nanoTime(), new ArrayList<>()));
    }
    if (stale != null) {
      summarise(stale.others(), event, warn);
    }
    write(warn, name + " " + event);
    vertx.setTimer(Math.max(1, windowNanos / 1_000_000), t -> close(event, warn));
  }

  private void close(String event, boolean warn) {
    Window w;
    synchronized (this) {
      w = open.get(event);
      if (w == null || System.nanoTime() - w.openedNanos() < windowNanos / 2) {
        return; // already closed (and maybe reopened since): that window's own timer closes it
      }
      open.remove(event);
    }
    summarise(w.others(), event, warn);
  }

  private void summarise(List<String> others, String event, boolean warn) {
    if (!others.isEmpty()) {
      // The event is written for one stream ("is reading again"): its verb agrees with more than one.
      String said = others.size() > 1 && event.startsWith("is ") ? "are " + event.substring(3) : event;
      write(warn, others.size() + (others.size() == 1 ? " more stream " : " more streams ") + said + ": " + kinds(others));
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
