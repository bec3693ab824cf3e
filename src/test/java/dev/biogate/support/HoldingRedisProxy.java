package dev.biogate.support;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A TCP relay in front of a real Redis that can hold back one connection's commands: once armed with a needle, the
 * first command whose bytes contain it (and everything after it on that connection) is buffered instead of sent,
 * until {@link #release()}. Lets a test put an exact interleaving between two instances' Redis calls, for example
 * "instance B has read L2 but its lock attempt reaches Redis only after A released the lock".
 */
public final class HoldingRedisProxy {

  private final Vertx vertx;
  private final int redisPort;
  private NetServer server;
  private NetClient client;
  private String needle;
  private Relay holding;
  private Promise<Void> held = Promise.promise();

  public HoldingRedisProxy(Vertx vertx, int redisPort) {
    this.vertx = vertx;
    this.redisPort = redisPort;
  }

  /** Listens on an ephemeral port; completes with {@code redis://127.0.0.1:<port>}. */
  public Future<String> start() {
    client = vertx.createNetClient();
    server = vertx.createNetServer().connectHandler(this::relay);
    return server.listen(0, "127.0.0.1").map(s -> "redis://127.0.0.1:" + s.actualPort());
  }

  /** Holds the next command mentioning {@code text}; the returned future completes once one is held. */
  public synchronized Future<Void> holdNext(String text) {
    needle = text;
    held = Promise.promise();
    return held.future();
  }

  /** Sends what was held, in order, and relays that connection normally again. */
  public synchronized void release() {
    Relay r = holding;
    holding = null;
    needle = null;
    if (r != null) {
      r.flush();
    }
  }

  public Future<Void> close() {
    return server.close().eventually(() -> client.close());
  }

  /** A proxy in front of the shared test Redis (not started yet). */
  public static HoldingRedisProxy forTestRedis(Vertx vertx) {
    return new HoldingRedisProxy(vertx, java.net.URI.create(TestRedis.url()).getPort());
  }

  /** For a test's {@code @AfterEach}: releases what {@code proxy} holds and closes it, if the test made one. */
  public static void closeAfter(HoldingRedisProxy proxy, io.vertx.junit5.VertxTestContext ctx) {
    if (proxy == null) {
      ctx.completeNow();
      return;
    }
    proxy.release();
    proxy.close().onComplete(ctx.succeedingThenComplete());
  }

  private void relay(NetSocket in) {
    in.pause();
    client.connect(redisPort, "127.0.0.1").onSuccess(out -> {
      Relay r = new Relay(out);
      out.handler(in::write);
      out.closeHandler(v -> in.close());
      in.closeHandler(v -> out.close());
      in.handler(chunk -> forward(r, chunk));
      in.resume();
    }).onFailure(err -> in.close());
  }

  private synchronized void forward(Relay r, Buffer chunk) {
    if (holding == null && needle != null && chunk.toString(StandardCharsets.ISO_8859_1).contains(needle)) {
      holding = r;
      held.tryComplete();
    }
    if (holding == r) {
      r.pending.add(chunk);
    } else {
      r.out.write(chunk);
    }
  }

  private static final class Relay {
    final NetSocket out;
    final List<Buffer> pending = new ArrayList<>();

    Relay(NetSocket out) {
      this.out = out;
    }

    void flush() {
      pending.forEach(out::write);
      pending.clear();
    }
  }
}
