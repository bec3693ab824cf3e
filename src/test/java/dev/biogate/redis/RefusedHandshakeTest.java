package dev.biogate.redis;

import dev.biogate.support.Eventually;
import dev.biogate.support.Resp;
import dev.biogate.support.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A connection whose handshake the server refuses is not left open. Found by an attack pass: once Redis refused the
 * configured password (rotated on the server, an ACL change), every reconnect left its socket open, idle after the
 * refused {@code AUTH} (the Vert.x client does not close a connection whose handshake failed): ~11 more a second,
 * until Redis's {@code maxclients} was full and the other instances, with the right password, could not connect
 * either. A client that has had a handshake refused is replaced, and closed (its sockets with it) soon after.
 */
@ExtendWith(VertxExtension.class)
class RefusedHandshakeTest {

  private static final int ATTEMPTS = 60;

  @Test
  @io.vertx.junit5.Timeout(value = 60, timeUnit = java.util.concurrent.TimeUnit.SECONDS)
  void connectionsWhosePasswordIsRefusedAreClosed(Vertx vertx, VertxTestContext ctx) {
    EmbeddedRedisHolder server = new EmbeddedRedisHolder();
    int port = server.redis.port();
    Resp.call(port, "CONFIG", "SET", "requirepass", "first-password");
    MultiplexedRedis redis = MultiplexedRedis.create(vertx,
      new RedisOptions().setConnectionString("redis://:first-password@127.0.0.1:" + port).setMaxPoolSize(8), 2_000);
    redis.send(Request.cmd(Command.PING))
      .compose(pong -> vertx.executeBlocking(() -> {
        // Rotated on the server, and every connection of the client closed: each new one is refused.
        Resp.callAs("first-password", port, "CONFIG", "SET", "requirepass", "second-password");
        Resp.callAs("second-password", port, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
        return null;
      }))
      .compose(v -> refusedInTurn(redis, ATTEMPTS))
      // Each refused connection used to stay open: ATTEMPTS more clients, for good.
      .compose(v -> Eventually.until(vertx, () -> vertx.executeBlocking(() -> clients(port) <= 2), 20_000,
        "the refused connections closed (connected_clients at most 2: the asking one, and one being refused)"))
      .onFailure(err -> err.addSuppressed(new AssertionError("connected_clients " + clients(port))))
      .eventually(redis::close)
      .eventually(() -> vertx.executeBlocking(() -> {
        server.redis.close();
        return null;
      }))
      .onComplete(ctx.succeedingThenComplete());
  }

  /** {@code n} connections opened one after another, each refused. */
  private static Future<Void> refusedInTurn(MultiplexedRedis redis, int n) {
    if (n == 0) {
      return Future.succeededFuture();
    }
    return redis.connect().transform(ar -> {
      if (ar.succeeded()) {
        ar.result().close();
        return Future.failedFuture("a connection opened with the old password");
      }
      return refusedInTurn(redis, n - 1);
    });
  }

  /** The server's {@code connected_clients}, the asking connection included. */
  private static int clients(int port) {
    String info = Resp.callAs("second-password", port, "INFO", "clients").toString();
    String field = RedisMode.field(info, "connected_clients");
    return Integer.parseInt(field.trim());
  }

  private static final class EmbeddedRedisHolder {
    final EmbeddedRedis redis = TestRedis.dedicated();
  }
}
