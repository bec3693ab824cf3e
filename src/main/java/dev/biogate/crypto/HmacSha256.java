package dev.biogate.crypto;

import dev.biogate.config.Secret;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * HMAC-SHA256 under one or more secrets (rotation), rendered as lowercase hex and matched in constant time.
 * <p>
 * {@link Mac} is stateful and not thread-safe, so each secret keeps an initialised prototype and every thread
 * gets its own clone on first use: no key schedule per request, no sharing between event loops.
 */
public final class HmacSha256 {

  /** Length of a hex-encoded SHA-256 MAC. */
  public static final int HEX_LENGTH = 64;

  private static final String ALGORITHM = "HmacSHA256";
  private static final byte[] HEX_DIGITS = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  private final List<ThreadLocal<Mac>> macs;

  public HmacSha256(List<Secret> secrets) {
    if (secrets == null || secrets.isEmpty()) {
      throw new IllegalArgumentException("at least one webhook secret is required");
    }
    List<ThreadLocal<Mac>> list = new ArrayList<>(secrets.size());
    for (int i = 0; i < secrets.size(); i++) {
      Secret secret = secrets.get(i);
      if (secret == null) {
        // Secret.of("") is null: an empty entry in a comma-separated list lands here.
        throw new IllegalArgumentException("webhook secret #" + i + " is null or empty");
      }
      Mac prototype = newMac(secret);
      list.add(ThreadLocal.withInitial(() -> copy(prototype, secret)));
    }
    this.macs = List.copyOf(list);
  }

  public int size() {
    return macs.size();
  }

  /**
   * Index of the first secret whose MAC over {@code prefix} then {@code body}, as lowercase hex, equals
   * {@code presentedHex}; -1 when none does. Each comparison is {@link MessageDigest#isEqual}, whose time does
   * not depend on where the bytes differ. Stopping at the first matching secret only tells a sender who already
   * holds a valid signature which secret it was made with.
   */
  public int match(byte[] prefix, byte[] body, byte[] presentedHex) {
    for (int i = 0; i < macs.size(); i++) {
      Mac mac = macs.get(i).get();
      mac.update(prefix);
      byte[] computed = hex(mac.doFinal(body));
      if (MessageDigest.isEqual(computed, presentedHex)) {
        return i;
      }
    }
    return -1;
  }

  /** Lowercase hex MAC of {@code prefix} then {@code body} under {@code secret}. */
  public static String sign(Secret secret, byte[] prefix, byte[] body) {
    if (secret == null) {
      throw new IllegalArgumentException("secret is required");
    }
    Mac mac = newMac(secret);
    mac.update(prefix);
    return new String(hex(mac.doFinal(body)), StandardCharsets.US_ASCII);
  }

  private static byte[] hex(byte[] raw) {
    byte[] out = new byte[raw.length * 2];
    for (int i = 0; i < raw.length; i++) {
      out[2 * i] = HEX_DIGITS[(raw[i] >> 4) & 0xF];
      out[2 * i + 1] = HEX_DIGITS[raw[i] & 0xF];
    }
    return out;
  }

  private static Mac copy(Mac prototype, Secret secret) {
    try {
      return (Mac) prototype.clone();
    } catch (CloneNotSupportedException e) {
      return newMac(secret);
    }
  }

  private static Mac newMac(Secret secret) {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(new SecretKeySpec(secret.bytes(), ALGORITHM));
      return mac;
    } catch (GeneralSecurityException e) {
      // The JDK always ships HmacSHA256; the message of an InvalidKeyException never carries the key.
      throw new IllegalStateException("cannot initialise " + ALGORITHM, e);
    }
  }
}
