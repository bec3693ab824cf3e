package dev.biogate.config;

import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * TLS for the listeners, from PEM files ({@code BIOGATE_TLS_CERT_FILE}: the certificate chain,
 * {@code BIOGATE_TLS_KEY_FILE}: its private key). Both or neither: one without the other is an error.
 */
public record TlsOptions(String certFile, String keyFile) {

  public TlsOptions(JsonObject json) {
    this(Settings.of(json));
  }

  TlsOptions(Settings s) {
    this(s.string("certFile", null), s.string("keyFile", null));
    if ((certFile == null) != (keyFile == null)) {
      String missing = certFile == null ? "certFile" : "keyFile";
      String given = certFile == null ? "keyFile" : "certFile";
      throw s.invalid(missing, "is required when " + s.name(given) + " is set (TLS needs both the certificate and its key)");
    }
    readable(s, "certFile", certFile);
    readable(s, "keyFile", keyFile);
  }

  private static void readable(Settings s, String key, String file) {
    if (file != null && !Files.isReadable(Path.of(file))) {
      throw s.invalid(key, "cannot read " + file);
    }
  }

  public boolean enabled() { return certFile != null; }

  public JsonObject toJson() {
    return new JsonObject().put("certFile", certFile).put("keyFile", keyFile);
  }
}
