package dev.biogate.destination;

import dev.biogate.config.Secret;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.List;

/**
 * Signing per the Standard Webhooks specification: {@code webhook-signature} is a space-separated list of
 * {@code v1,<base64 HMAC-SHA256(secret, "<webhook-id>.<webhook-timestamp>.<body>")>}, one per secret (several
 * during a rotation, current first). Secrets are used as their UTF-8 bytes; a {@code whsec_} prefix is decoded as
 * base64, as the specification's libraries do.
 */
public final class StandardWebhooks {

  public static final String ID = "webhook-id";
  public static final String TIMESTAMP = "webhook-timestamp";
  public static final String SIGNATURE = "webhook-signature";

  private StandardWebhooks() {
  }

  /** The {@code webhook-signature} value; {@code null} when there are no secrets (unsigned destination). */
  public static String signature(List<Secret> secrets, String id, long timestampS, byte[] body) {
    if (secrets.isEmpty()) {
      return null;
    }
    byte[] prefix = (id + "." + timestampS + ".").getBytes(StandardCharsets.UTF_8);
    StringBuilder out = new StringBuilder();
    for (Secret s : secrets) {
      if (out.length() > 0) {
        out.append(' ');
      }
      out.append("v1,").append(Base64.getEncoder().encodeToString(mac(key(s), prefix, body)));
    }
    return out.toString();
  }

  private static byte[] key(Secret s) {
    String v = s.reveal();
    if (v.startsWith("whsec_")) {
      try {
        return Base64.getDecoder().decode(v.substring(6));
      } catch (IllegalArgumentException notBase64) {
        return s.bytes();
      }
    }
    return s.bytes();
  }

  private static byte[] mac(byte[] key, byte[] prefix, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update(prefix);
      return mac.doFinal(body);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot initialise HmacSHA256");
    }
  }
}
