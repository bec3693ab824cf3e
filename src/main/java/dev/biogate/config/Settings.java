package dev.biogate.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Typed, validating reads over a JSON configuration section. Values may be JSON numbers/booleans or the
 * strings an environment variable carries. Every failure names the setting the operator actually wrote:
 * the environment variable when the value came from one, else the JSON path.
 */
public final class Settings {

  private final JsonObject json;
  private final String prefix;
  private final Map<String, String> origins;
  /** Every JSON path some option read (shared by a root and its sections): what is left over is unknown. */
  private final Set<String> known;

  public Settings(JsonObject json, String prefix, Map<String, String> origins) {
    this(json, prefix, origins, new HashSet<>());
  }

  private Settings(JsonObject json, String prefix, Map<String, String> origins, Set<String> known) {
    this.json = json == null ? new JsonObject() : json;
    this.prefix = prefix;
    this.origins = origins;
    this.known = known;
  }

  /** Settings over a plain JSON object, with errors reported by JSON path. */
  public static Settings of(JsonObject json) {
    return new Settings(json, "", Map.of());
  }

  public Settings section(String key) {
    Object v = value(key);
    if (v != null && !(v instanceof JsonObject)) {
      throw new ConfigException(name(key), "must be a JSON object");
    }
    return new Settings((JsonObject) v, path(key), origins, known);
  }

  /** The raw JSON of a section read by a later stage with its own parser; its keys count as known. */
  public JsonObject opaque(String key) {
    known.add(path(key) + ".*");
    Object v = value(key);
    if (v != null && !(v instanceof JsonObject)) {
      throw new ConfigException(name(key), "must be a JSON object");
    }
    return v == null ? new JsonObject() : (JsonObject) v;
  }

  public boolean has(String key) {
    return value(key) != null;
  }

  /**
   * Fails on the first key of this section (recursively) that no option read: a typo must not be silently ignored.
   * Call after every option has been built from this root.
   */
  public void rejectUnknown() {
    rejectUnknown(json, prefix);
  }

  private void rejectUnknown(JsonObject o, String at) {
    for (String key : new TreeSet<>(o.fieldNames())) {
      String p = at.isEmpty() ? key : at + "." + key;
      if (known.contains(p + ".*")) {
        continue;
      }
      if (key.indexOf('.') >= 0) {
        // Read as a path it would pass this check while no option reads it: the setting would be silently ignored.
        // Named as the file writes it: only a file has such keys, whatever variable sets the path they look like.
        throw new ConfigException(p, "a key with dots is not a path: a JSON file nests each part, "
          + nested(p));
      }
      if (!known.contains(p)) {
        throw new ConfigException(origins.getOrDefault(p, p), "unknown setting (check its spelling; see the README's configuration tables)");
      }
      Object child = o.getValue(key);
      if (child instanceof JsonObject) {
        rejectUnknown((JsonObject) child, p);
      }
    }
  }

  /** {@code a.b.c} as a JSON file writes it: {@code {"a":{"b":{"c":…}}}}. */
  static String nested(String path) {
    String[] parts = path.split("\\.", -1);
    StringBuilder out = new StringBuilder();
    for (String part : parts) {
      out.append("{\"").append(part).append("\":");
    }
    out.append('…');
    out.append("}".repeat(parts.length));
    return out.toString();
  }

  private Object value(String key) {
    known.add(path(key));
    return json.getValue(key);
  }

  public String string(String key, String def) {
    Object v = value(key);
    if (v == null) {
      return def;
    }
    if (v instanceof JsonObject || v instanceof JsonArray) {
      throw new ConfigException(name(key), "must be a string");
    }
    String s = v.toString().trim();
    return s.isEmpty() ? def : s;
  }

  public int intIn(String key, int def, int min, int max) {
    long v = longIn(key, def, min, max);
    return (int) v;
  }

  public long longIn(String key, long def, long min, long max) {
    Object v = value(key);
    if (v == null || (v instanceof String && ((String) v).isBlank())) {
      return def;
    }
    long n;
    if (v instanceof Number && !(v instanceof Double || v instanceof Float)) {
      n = ((Number) v).longValue();
    } else {
      try {
        n = Long.parseLong(v.toString().trim());
      } catch (NumberFormatException e) {
        throw new ConfigException(name(key), "must be a whole number between " + min + " and " + max + ", got '" + printable(v) + "'");
      }
    }
    if (n < min || n > max) {
      throw new ConfigException(name(key), "must be between " + min + " and " + max + ", got " + n);
    }
    return n;
  }

  public double doubleIn(String key, double def, double min, double max) {
    Object v = value(key);
    if (v == null || (v instanceof String && ((String) v).isBlank())) {
      return def;
    }
    double d;
    try {
      d = v instanceof Number ? ((Number) v).doubleValue() : Double.parseDouble(v.toString().trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(name(key), "must be a number between " + min + " and " + max + ", got '" + printable(v) + "'");
    }
    if (!(d >= min && d <= max)) {
      throw new ConfigException(name(key), "must be between " + min + " and " + max + ", got " + d);
    }
    return d;
  }

  public boolean bool(String key, boolean def) {
    Object v = value(key);
    if (v == null) {
      return def;
    }
    if (v instanceof Boolean) {
      return (Boolean) v;
    }
    switch (v.toString().trim().toLowerCase()) {
      case "true": case "1": case "yes": case "on": return true;
      case "false": case "0": case "no": case "off": return false;
      case "": return def;
      default: throw new ConfigException(name(key), "must be true or false (1/0, yes/no and on/off are read alike), got '"
        + printable(v) + "'");
    }
  }

  /**
   * Like {@link #list}, for a setting that is either absent or names at least one entry: a value holding only commas
   * and blanks ({@code ","}) is a mistake, not a way to configure none.
   */
  public List<String> nonEmptyList(String key) {
    List<String> out = list(key);
    Object v = value(key);
    boolean given = v instanceof JsonArray ? !((JsonArray) v).isEmpty() : v != null && !v.toString().isEmpty();
    if (out.isEmpty() && given) {
      throw new ConfigException(name(key), "names no entry (only commas or blanks); unset it to configure none");
    }
    return out;
  }

  /** A list from a JSON array or a comma-separated string; blanks dropped. */
  public List<String> list(String key) {
    Object v = value(key);
    List<String> out = new ArrayList<>();
    if (v == null) {
      return out;
    }
    if (v instanceof JsonArray) {
      for (Object o : (JsonArray) v) {
        if (o != null && !o.toString().isBlank()) {
          out.add(o.toString().trim());
        }
      }
    } else {
      for (String s : v.toString().split(",")) {
        if (!s.isBlank()) {
          out.add(s.trim());
        }
      }
    }
    return out;
  }

  /** An absolute http(s) URL without query or credentials, trailing slash removed; {@code null} if unset. */
  public String httpUrl(String key) {
    String s = string(key, null);
    if (s == null) {
      return null;
    }
    URI uri;
    try {
      uri = new URI(s);
    } catch (Exception e) {
      throw new ConfigException(name(key), "is not a valid URL");
    }
    if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https")) || uri.getHost() == null) {
      throw new ConfigException(name(key), "must be an absolute http:// or https:// URL");
    }
    if (uri.getRawUserInfo() != null || uri.getRawQuery() != null) {
      throw new ConfigException(name(key), "must not carry credentials or a query string");
    }
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  /**
   * Checks a Redis endpoint URL as the Redis client will read it: {@code redis[s]://[user:password@]host[:port][/db]}
   * with a numeric port and database; {@code unix://} paths pass. The message never repeats the URL (credentials).
   */
  public void redisEndpoint(String key, String url) {
    if (url.startsWith("unix://")) {
      return;
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (Exception e) {
      throw invalid(key, "is not a valid URL (expected redis://host:port/db)");
    }
    if (!"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme())) {
      throw invalid(key, "must be a redis:// or rediss:// URL");
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw invalid(key, "has no host or an invalid port (expected redis://host:port/db)");
    }
    if (uri.getPort() == 0 || uri.getPort() > 65_535) {
      throw invalid(key, "has port " + uri.getPort() + ", outside 1-65535 (expected redis://host:port/db)");
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw invalid(key, "must not carry a query or fragment (expected redis://host:port/db)");
    }
    String path = uri.getRawPath();
    if (path != null && !path.isEmpty() && !path.equals("/") && !path.matches("/[0-9]{1,5}")) {
      throw invalid(key, "the database must be a number (expected redis://host:port/db, e.g. /0)");
    }
  }

  public ConfigException invalid(String key, String problem) {
    return new ConfigException(name(key), problem);
  }

  private String path(String key) {
    return prefix.isEmpty() ? key : prefix + "." + key;
  }

  /** The operator-facing name of a setting: the env var it came from, else its JSON path. */
  public String name(String key) {
    String p = path(key);
    String env = origins.get(p);
    if (env != null) {
      return env + " (" + p + ")";
    }
    if (json.getValue(key) == null) {
      // Unset: name the variable the operator would set, and the JSON path.
      for (Map.Entry<String, String> e : ConfigLoader.ENV.entrySet()) {
        if (e.getValue().equals(p)) {
          return e.getKey() + " (" + p + ")";
        }
      }
    }
    return p;
  }

  private static String printable(Object v) {
    String s = v.toString();
    s = s.replaceAll("\\p{Cntrl}", "?");
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }
}
