package dev.biogate.stream;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * This process's engines by stream key, so that whatever queues an entry (webhook ingest, the click writer) wakes the
 * local reader of that stream at once instead of leaving the entry to the next idle poll.
 */
public final class StreamWakeups {

  /** Per stream, its engines here (one per consumer group: a clicks shard has the counter's and the sink's). */
  private final Map<String, List<StreamEngine>> engines = new ConcurrentHashMap<>();

  public void register(StreamEngine engine) {
    engines.computeIfAbsent(engine.policy().stream(), k -> new CopyOnWriteArrayList<>()).add(engine);
  }

  /** Wakes the engines reading {@code stream}, if this process runs any. */
  public void wake(String stream) {
    List<StreamEngine> readers = engines.get(stream);
    if (readers != null) {
      for (StreamEngine e : readers) {
        e.wake();
      }
    }
  }
}
