package dev.biogate.crypto;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256, which every JVM provides: digests of bytes, whole or as lowercase hex. */
public final class Sha256 {

  private Sha256() {
  }

  /** A fresh digest, for input given in parts. */
  public static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e); // required of every Java platform
    }
  }

  public static byte[] of(byte[] bytes) {
    return digest().digest(bytes);
  }

  /** The lowercase hex of the first {@code bytes} bytes (at most 32) of the digest of {@code input}. */
  public static String hex(byte[] input, int bytes) {
    return HexFormat.of().formatHex(of(input), 0, bytes);
  }

  /** The lowercase hex of the whole digest of {@code input} (64 characters). */
  public static String hex(byte[] input) {
    return hex(input, 32);
  }
}
