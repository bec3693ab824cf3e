package dev.biogate.config;

import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Watches the secrets given as {@code NAME_FILE} (mounted Kubernetes/Docker secrets) and hands over a revalidated
 * configuration when one of them changes, so a rotated webhook secret or admin token takes effect without a restart.
 * The files are re-read on a worker thread every {@code periodMs}; content, not modification time, decides (mounted
 * secrets are replaced through symlink swaps that keep odd timestamps). A changed value that fails validation is
 * logged (by setting name, never by value) and the previous one stays in force; each secret is taken or refused on its
 * own.
 */
public final class SecretFiles {

  /** How often the files are re-read. */
  public static final long DEFAULT_PERIOD_MS = 1_000;

  private static final Logger LOG = LoggerFactory.getLogger(SecretFiles.class);

  private final Vertx vertx;
  private final Consumer<BiogateConfig> onChange;
  private BiogateConfig current;
  private Map<String, String> last;
  /** The files that could not be read at the last check, with the trouble told about each. */
  private final Map<String, String> unreadable = new HashMap<>();
  private long timer = -1;
  private boolean reading;

  public SecretFiles(Vertx vertx, BiogateConfig config, Consumer<BiogateConfig> onChange) {
    this.vertx = vertx;
    this.current = config;
    this.onChange = onChange;
    // The values the configuration was built with: a file replaced before the first check is still a change.
    this.last = new HashMap<>();
    config.secretFiles().keySet().forEach(name -> last.put(name, valueAt(config.source(), ConfigLoader.ENV.get(name))));
  }

  private static String valueAt(io.vertx.core.json.JsonObject json, String path) {
    String[] parts = path.split("\\.");
    Object o = json;
    for (String part : parts) {
      o = o instanceof io.vertx.core.json.JsonObject ? ((io.vertx.core.json.JsonObject) o).getValue(part) : null;
    }
    return o == null ? null : o.toString();
  }

  /** Starts watching (no-op when no secret came from a file). */
  public SecretFiles start(long periodMs) {
    if (!current.secretFiles().isEmpty()) {
      timer = vertx.setPeriodic(periodMs, id -> check());
    }
    return this;
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  private void check() {
    if (reading) {
      return;
    }
    reading = true;
    vertx.executeBlocking(this::read, false).onComplete(ar -> {
      reading = false;
      if (ar.failed()) {
        LOG.warn("secret files: {}", ar.cause().getMessage());
        return;
      }
      Map<String, String> values = new HashMap<>();
      ar.result().forEach((name, read) -> {
        if (read instanceof ConfigException) {
          // An unreadable file (removed, mid-swap) keeps its secret as it was; told once per new trouble.
          String trouble = ((ConfigException) read).getMessage();
          if (!trouble.equals(unreadable.put(name, trouble))) {
            LOG.warn("a secret file cannot be read, keeping the previous value: {}", trouble);
          }
          values.put(name, last.get(name));
        } else {
          unreadable.remove(name);
          values.put(name, (String) read);
        }
      });
      if (values.equals(last)) {
        return;
      }
      Map<String, String> previous = last;
      last = values;
      // Each changed secret is taken or refused on its own: an invalid admin token file must not hold back a webhook
      // secret's rotation (the provider's deliveries would be refused 403 meanwhile). Told once per new value.
      BiogateConfig next = current;
      List<String> taken = new ArrayList<>();
      for (String name : new TreeSet<>(values.keySet())) {
        String value = values.get(name);
        if (value.equals(previous.get(name))) {
          continue;
        }
        try {
          next = next.withSecrets(Map.of(name, value));
          taken.add(name);
        } catch (ConfigException e) {
          LOG.warn("a rotated secret is invalid, keeping the previous value: {}", e.getMessage());
        }
      }
      if (!taken.isEmpty()) {
        current = next;
        taken.forEach(name -> LOG.info("{}_FILE changed: the new value is in use", name));
        onChange.accept(next);
      }
    });
  }

  /** Each file's value, or the {@link ConfigException} saying why it cannot be read: one file's trouble is its own. */
  private Map<String, Object> read() {
    Map<String, Object> values = new HashMap<>();
    current.secretFiles().forEach((name, file) -> {
      try {
        values.put(name, ConfigLoader.readSecretFile(Path.of(file), name + "_FILE"));
      } catch (ConfigException e) {
        values.put(name, e);
      }
    });
    return values;
  }
}
