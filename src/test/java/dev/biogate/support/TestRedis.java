package dev.biogate.support;

import dev.biogate.redis.EmbeddedRedis;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The Redis tests share: {@code REDIS_URL} when set (it must be a scratch database: tests flush it), else one
 * private {@code redis-server} started for the whole test JVM. Tests that stop Redis start their own with
 * {@link #dedicated()}.
 */
public final class TestRedis {

  private static String url;

  private TestRedis() {
  }

  public static synchronized String url() {
    if (url == null) {
      String env = System.getenv("REDIS_URL");
      if (env != null && !env.isBlank()) {
        url = env.trim();
      } else {
        url = dedicated().url();
      }
    }
    return url;
  }

  /** A new private server this caller owns (and may stop and restart). */
  public static EmbeddedRedis dedicated() {
    try {
      return EmbeddedRedis.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
