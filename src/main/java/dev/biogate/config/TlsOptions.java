package dev.biogate.config;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * TLS for the listeners, from PEM files ({@code BIOGATE_TLS_CERT_FILE}: the certificate chain,
 * {@code BIOGATE_TLS_KEY_FILE}: its private key). Both or neither: one without the other is an error.
 * {@code handshakeTimeoutMs}: how long a connection may take to finish its handshake before it is closed.
 */
public record TlsOptions(String certFile, String keyFile, long handshakeTimeoutMs) {

  public static final long DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

  public TlsOptions(JsonObject json) {
    this(Settings.of(json));
  }

  TlsOptions(Settings s) {
    this(s.string("certFile", null), s.string("keyFile", null),
      s.longIn("handshakeTimeoutMs", DEFAULT_HANDSHAKE_TIMEOUT_MS, 100, 600_000));
    if ((certFile == null) != (keyFile == null)) {
      String missing = certFile == null ? "certFile" : "keyFile";
      String given = certFile == null ? "keyFile" : "certFile";
      throw s.invalid(missing, "is required when " + s.name(given) + " is set (TLS needs both the certificate and its key)");
    }
    pem(s, "certFile", certFile, "CERTIFICATE", "a PEM certificate chain (-----BEGIN CERTIFICATE-----)");
    pem(s, "keyFile", keyFile, "PRIVATE KEY", "a PEM private key (-----BEGIN PRIVATE KEY-----, or RSA / EC)");
  }

  /**
   * The file is readable and holds a PEM block whose label ends with {@code label}: a file of another kind used to
   * fail only when the listeners started, in the TLS library's words. The content never appears in the error.
   */
  private static void pem(Settings s, String key, String file, String label, String expected) {
    if (file == null) {
      return;
    }
    String text;
    try {
      text = Files.readString(Path.of(file), StandardCharsets.ISO_8859_1); // any bytes: a DER file is "not PEM", not unreadable
    } catch (IOException | RuntimeException e) {
      throw s.invalid(key, "cannot read " + file + (e instanceof IOException io ? " (" + ConfigLoader.unreadable(io) + ")" : ""));
    }
    if (!PEM_BEGIN.matcher(text).results().anyMatch(m -> m.group(1).endsWith(label))) {
      throw s.invalid(key, file + " is not " + expected);
    }
  }

  /** A PEM header line; linear (no nested quantifiers), and only run on a file the operator named. */
  private static final Pattern PEM_BEGIN = Pattern.compile("-----BEGIN ([A-Z0-9 ]{1,40})-----");

  public boolean enabled() { return certFile != null; }

  public JsonObject toJson() {
    return new JsonObject().put("certFile", certFile).put("keyFile", keyFile).put("handshakeTimeoutMs", handshakeTimeoutMs);
  }
}
