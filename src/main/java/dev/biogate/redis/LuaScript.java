package dev.biogate.redis;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
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
 * A Lua script from the top-level {@code redis/} folder (bundled in the jar), run with {@code EVALSHA}. When the
 * node owning the keys answers {@code NOSCRIPT} (a fresh node, a restart, a promoted replica, a
 * {@code SCRIPT FLUSH}) the same call is sent again as {@code EVAL} with the body: it carries the same keys, so it
 * is routed to the same node as the {@code EVALSHA} (in Cluster, the master of their slot; never a random node as
 * a keyless {@code SCRIPT LOAD} would be), and running it caches the script there for the next {@code EVALSHA}.
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

  /** Runs the script; keys first, then args (strings, or {@link Buffer}s sent as raw bytes). */
  public Future<Response> run(Redis redis, List<String> keys, List<?> args) {
    return redis.send(request(Command.EVALSHA, sha, keys, args))
      .recover(err -> {
        if (err.getMessage() != null && err.getMessage().startsWith("NOSCRIPT")) {
          return redis.send(request(Command.EVAL, source, keys, args));
        }
        return Future.failedFuture(err);
      });
  }

  /** A script's reply, and how many replicas acknowledged its writes ({@code WAIT}). */
  public record Replicated(Response reply, long replicas) {
  }

  /**
   * Runs the script, then {@code WAIT replicas waitMs} in the same batch on one connection (WAIT covers that
   * connection's writes): the reply, and how many replicas hold what the script wrote.
   */
  public Future<Replicated> runAndWait(Redis redis, List<String> keys, List<?> args, int replicas, long waitMs) {
    Request wait = Request.cmd(Command.WAIT).arg(Math.max(1, replicas)).arg(waitMs);
    return redis.batch(List.of(evalsha(keys, args), wait))
      .recover(err -> err.getMessage() != null && err.getMessage().contains("NOSCRIPT")
        ? redis.batch(List.of(eval(keys, args), wait))
        : Future.failedFuture(err))
      .map(replies -> new Replicated(replies.get(0), replies.get(1).toLong()));
  }

  /**
   * The {@code EVALSHA} request alone, for callers that must send it on a known connection or in a batch (e.g.
   * followed by {@code WAIT}); on {@code NOSCRIPT} they send {@link #eval} instead, which is routed by the same keys.
   */
  public Request evalsha(List<String> keys, List<?> args) {
    return request(Command.EVALSHA, sha, keys, args);
  }

  /** The same call as {@link #evalsha} carrying the script body: it caches the script on the node that runs it. */
  public Request eval(List<String> keys, List<?> args) {
    return request(Command.EVAL, source, keys, args);
  }

  private static Request request(Command cmd, String shaOrBody, List<String> keys, List<?> args) {
    Request r = Request.cmd(cmd).arg(shaOrBody).arg(keys.size());
    for (String k : keys) {
      r.arg(k);
    }
    for (Object a : args) {
      if (a instanceof Buffer) {
        r.arg((Buffer) a);
      } else {
        r.arg(a.toString());
      }
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
