package dev.biogate.redis;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * A Lua script from the top-level {@code redis/} folder (bundled in the jar), run with {@code EVALSHA}. The script
 * body is sent again ({@code SCRIPT LOAD}) only when the server answers {@code NOSCRIPT}: after a restart, a
 * failover or a {@code SCRIPT FLUSH}.
 */
public final class LuaScript {

  private final String name;
  private final String source;
  private final String sha;

  private LuaScript(String name, String source) {
    this.name = name;
    this.source = source;
    this.sha = sha1(source);
  }

  public static LuaScript load(String name) {
    String path = "redis/" + name + ".lua";
    try (InputStream in = LuaScript.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing script " + path);
      }
      return new LuaScript(name, new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String name() {
    return name;
  }

  public String sha() {
    return sha;
  }

  /** Runs the script; keys first, then args. */
  public Future<Response> run(Redis redis, List<String> keys, List<String> args) {
    return redis.send(request(Command.EVALSHA, sha, keys, args))
      .recover(err -> {
        if (err.getMessage() != null && err.getMessage().startsWith("NOSCRIPT")) {
          return redis.send(Request.cmd(Command.SCRIPT).arg("LOAD").arg(source))
            .compose(loaded -> redis.send(request(Command.EVALSHA, sha, keys, args)));
        }
        return Future.failedFuture(err);
      });
  }

  /**
   * The {@code EVALSHA} request alone, for callers that must send it on a known connection or in a batch (e.g.
   * followed by {@code WAIT}); on {@code NOSCRIPT} they {@link #load} and send it again.
   */
  public Request evalsha(List<String> keys, List<String> args) {
    return request(Command.EVALSHA, sha, keys, args);
  }

  /** Sends the script body to the server ({@code SCRIPT LOAD}). */
  public Future<Void> load(Redis redis) {
    return redis.send(Request.cmd(Command.SCRIPT).arg("LOAD").arg(source)).mapEmpty();
  }

  private static Request request(Command cmd, String sha, List<String> keys, List<String> args) {
    Request r = Request.cmd(cmd).arg(sha).arg(keys.size());
    for (String k : keys) {
      r.arg(k);
    }
    for (String a : args) {
      r.arg(a);
    }
    return r;
  }

  private static String sha1(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
