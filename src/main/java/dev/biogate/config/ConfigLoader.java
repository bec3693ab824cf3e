package dev.biogate.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the configuration in three layers, later ones winning: {@code conf/biogate.json} (from the working
 * directory, else the copy bundled in the jar), the file named by {@code BIOGATE_CONFIG}, then environment
 * variables. A {@code *_FILE} variable reads a secret from a mounted file.
 */
public final class ConfigLoader {

  /** Environment variable → JSON path. */
  static final Map<String, String> ENV = new LinkedHashMap<>();

  static {
    ENV.put("BIOGATE_HTTP_HOST", "http.host");
    ENV.put("BIOGATE_HTTP_PORT", "http.port");
    ENV.put("BIOGATE_HTTP_INSTANCES", "http.instances");
    ENV.put("BIOGATE_CORS_ORIGINS", "http.corsOrigins");
    ENV.put("BIOGATE_MANAGEMENT_HOST", "http.management.host");
    ENV.put("BIOGATE_MANAGEMENT_PORT", "http.management.port");
    ENV.put("BIOGATE_TRUSTED_PROXIES", "http.inbound.trustedProxies");
    ENV.put("BIOGATE_EXEMPT_LOOPBACK", "http.inbound.exemptLoopback");
    ENV.put("REDIS_URL", "redis.url");
    ENV.put("REDIS_PASSWORD", "redis.password");
    ENV.put("REDIS_TYPE", "redis.type");
    ENV.put("REDIS_ENDPOINTS", "redis.endpoints");
    ENV.put("REDIS_MASTER_NAME", "redis.masterName");
    ENV.put("LINKTREE_API_BASE", "linktree.apiBase");
    ENV.put("LINKTREE_API_TOKEN", "linktree.token");
    ENV.put("LINKTREE_RATE_LIMIT_PER_MIN", "linktree.rateLimitPerMin");
    ENV.put("LINKTREE_WEBHOOK_SECRET", "webhooks.linktree.secrets");
    ENV.put("LINKME_WEBHOOK_SECRET", "webhooks.linkme.secrets");
    ENV.put("KLAVIYO_WEBHOOK_SECRET", "webhooks.klaviyo.secrets");
    ENV.put("KLAVIYO_ENABLED", "klaviyo.enabled");
    ENV.put("KLAVIYO_PRIVATE_KEY", "klaviyo.privateKey");
    ENV.put("KLAVIYO_API_BASE", "klaviyo.apiBase");
    ENV.put("BIOGATE_ADMIN_TOKEN", "admin.token");
    ENV.put("BIOGATE_SANDBOX_PORT", "sandbox.port");
    ENV.put("BIOGATE_CLICK_JOURNAL", "analytics.journal.path");
    ENV.put("BIOGATE_TLS_CERT_FILE", "tls.certFile");
    ENV.put("BIOGATE_TLS_KEY_FILE", "tls.keyFile");
    ENV.put("BIOGATE_CURSOR_SECRET", "http.cursorSecret");
    ENV.put("BIOGATE_ACCESS_LOG", "accessLog.enabled");
    ENV.put("BIOGATE_ACCESS_LOG_SAMPLE", "accessLog.sampleRate");
    ENV.put("BIOGATE_WEBHOOKS_SHARDS", "webhooks.shards");
  }

  /** Variables that may instead be given as {@code NAME_FILE}, a path to a file holding the value. */
  static final String[] FILE_FORMS = {
    "LINKTREE_API_TOKEN", "LINKTREE_WEBHOOK_SECRET", "LINKME_WEBHOOK_SECRET", "KLAVIYO_WEBHOOK_SECRET", "KLAVIYO_PRIVATE_KEY", "BIOGATE_ADMIN_TOKEN",
    "REDIS_PASSWORD", "BIOGATE_CURSOR_SECRET"
  };

  private ConfigLoader() {
  }

  public static BiogateConfig load() {
    return load(System.getenv(), Path.of("conf", "biogate.json"));
  }

  public static BiogateConfig load(Map<String, String> env, Path baseFile) {
    JsonObject merged = readBase(baseFile);
    String extra = env.get("BIOGATE_CONFIG");
    if (extra != null && !extra.isBlank()) {
      deepMerge(merged, readJsonFile(Path.of(extra.trim()), "BIOGATE_CONFIG"));
    }
    Map<String, String> values = new HashMap<>();
    Map<String, String> secretFiles = new HashMap<>();
    for (String name : FILE_FORMS) {
      String file = env.get(name + "_FILE");
      if (file != null && !file.isBlank()) {
        values.put(name, readSecretFile(Path.of(file.trim()), name + "_FILE"));
        secretFiles.put(name, file.trim());
      }
    }
    // An empty variable is ignored, as if unset, and named among the risky settings: a deployment template's
    // `REDIS_URL: ${REDIS_URL}` with nothing behind it used to replace the file's Redis with the private one.
    List<String> empty = new ArrayList<>();
    for (String name : ENV.keySet()) {
      String v = env.get(name);
      if (v != null && v.isBlank()) {
        empty.add(name);
      } else if (v != null && !values.containsKey(name)) {
        values.put(name, v);
      }
    }
    for (String name : FILE_FORMS) {
      String file = env.get(name + "_FILE");
      if (file != null && file.isBlank() && !values.containsKey(name)) {
        empty.add(name + "_FILE");
      }
    }
    if (extra != null && extra.isBlank()) {
      empty.add("BIOGATE_CONFIG");
    }
    Collections.sort(empty);
    Map<String, String> origins = new HashMap<>();
    values.forEach((name, value) -> {
      String path = ENV.get(name);
      put(merged, path, value);
      origins.put(path, name);
    });
    return new BiogateConfig(merged, origins, secretFiles, empty);
  }

  private static JsonObject readBase(Path file) {
    if (file != null && Files.isRegularFile(file)) {
      return readJsonFile(file, file.toString());
    }
    try (InputStream in = ConfigLoader.class.getClassLoader().getResourceAsStream("conf/biogate.json")) {
      if (in == null) {
        return new JsonObject();
      }
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException | DecodeException e) {
      throw new ConfigException("conf/biogate.json", "bundled default configuration is unreadable");
    }
  }

  private static JsonObject readJsonFile(Path file, String setting) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(setting, "cannot read " + file + " (" + unreadable(e) + ")");
    }
    try {
      return new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      throw new ConfigException(setting, file + " is not a JSON object" + where(e));
    }
  }

  /** Why a file could not be read, in words (the exception's class name otherwise). */
  static String unreadable(IOException e) {
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof java.nio.charset.CharacterCodingException) {
      return "not UTF-8 text";
    }
    if (e instanceof java.nio.file.FileSystemException && e.getMessage() != null && e.getMessage().endsWith("Is a directory")) {
      return "a directory";
    }
    return e.getClass().getSimpleName();
  }

  /**
   * Where the JSON parser stopped ({@code " (line L, column C)"}), or nothing: only the position, never the parser's
   * message, which quotes the file's text (secrets included).
   */
  private static String where(Exception e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof com.fasterxml.jackson.core.JsonProcessingException jp && jp.getLocation() != null) {
        return " (invalid JSON at line " + jp.getLocation().getLineNr() + ", column " + jp.getLocation().getColumnNr() + ")";
      }
    }
    return "";
  }

  /** Reads a {@code NAME_FILE} secret: trimmed, non-empty; failures name {@code setting}. */
  public static String readSecretFile(Path file, String setting) {
    try {
      String s = Files.readString(file, StandardCharsets.UTF_8).trim();
      if (s.isEmpty()) {
        throw new ConfigException(setting, "file " + file + " is empty");
      }
      return s;
    } catch (IOException e) {
      throw new ConfigException(setting, "cannot read " + file + " (" + unreadable(e) + ")");
    }
  }

  static void put(JsonObject root, String path, String value) {
    String[] parts = path.split("\\.");
    JsonObject o = root;
    for (int i = 0; i < parts.length - 1; i++) {
      Object child = o.getValue(parts[i]);
      if (!(child instanceof JsonObject)) {
        child = new JsonObject();
        o.put(parts[i], child);
      }
      o = (JsonObject) child;
    }
    o.put(parts[parts.length - 1], value);
  }

  static void deepMerge(JsonObject into, JsonObject from) {
    for (Map.Entry<String, Object> e : from) {
      Object mine = into.getValue(e.getKey());
      if (mine instanceof JsonObject && e.getValue() instanceof JsonObject) {
        deepMerge((JsonObject) mine, (JsonObject) e.getValue());
      } else {
        into.put(e.getKey(), e.getValue());
      }
    }
  }
}
