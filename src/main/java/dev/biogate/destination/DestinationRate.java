package dev.biogate.destination;

import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisTimeoutException;
import io.vertx.core.Future;
import io.vertx.redis.client.Redis;

import java.util.List;

/**
 * A destination's {@code ratePerSec}, held for the whole deployment: every instance takes a token from the
 * destination's bucket in Redis ({@code redis/destination_rate.lua}) before an attempt. The bucket holds one second's
 * worth (at least one token), so over any {@code t} seconds at most {@code rate × (t + 1)} attempts start, however
 * many instances deliver.
 */
final class DestinationRate {

  private static final long TIMEOUT_MS = 2_000;

  private final Redis redis;
  private final LuaScript script = LuaScript.load("destination_rate");

  DestinationRate(Redis redis) {
    this.redis = redis;
  }

  /** Burst of a bucket: one second of the rate, at least one token. */
  static double burst(double ratePerSec) {
    return Math.max(1, Math.ceil(ratePerSec));
  }

  /**
   * What the bucket said: {@code granted}, a token was taken (send now); {@code nextMs}, how long until the next token
   * (the one to wait for when none was granted, at least 1; the one after this when one was, 0 if another is there).
   */
  record Token(boolean granted, long nextMs) {
  }

  Future<Token> take(String destination, double ratePerSec, long nowMs) {
    return RedisTimeoutException.within(script.run(redis, List.of(OutboundKeys.rate(destination)),
        List.of(Double.toString(ratePerSec), Double.toString(burst(ratePerSec)), Long.toString(nowMs))), TIMEOUT_MS)
      .map(r -> r.get(0).toInteger() == 1 ? new Token(true, Math.max(0, r.get(1).toLong()))
        : new Token(false, Math.max(1, r.get(1).toLong())));
  }
}
