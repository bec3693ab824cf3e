package dev.biogate.redis;

import dev.biogate.config.RedisConfig;
import dev.biogate.support.Eventually;
import dev.biogate.support.LogCapture;
import dev.biogate.support.TcpProxy;
import dev.biogate.support.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shared connection's rules on a standalone server: blocking commands stay off it, and it heals itself. */
@ExtendWith(VertxExtension.class)
class MultiplexedRedisTest {

  private static Redis client(Vertx vertx, String url) {
    return RedisClients.create(vertx, new RedisConfig(new JsonObject().put("url", url).put("commandTimeoutMs", 500)));
  }

  /** A cold JVM needs longer than one 500 ms command timeout for its first connection. */
  private static Future<Void> connected(Vertx vertx, Redis redis) {
    return Eventually.until(vertx, () -> redis.send(Request.cmd(Command.PING)).map(true), 10_000, "connected");
  }

  /**
   * Closing while connections are still being opened (a start that fails half-way closes clients its components
   * have just begun to use) waits for them: nothing is logged, and the close completes once they are closed. It
   * once closed the pool under a handshake in flight, which logged "Unhandled Error" from the Redis client (and,
   * with assertions on, an AssertionError from the connection's end handler).
   */
  @Test
  void closingWhileConnectionsAreStillOpeningLogsNothing(Vertx vertx, VertxTestContext ctx) {
    LogCapture logged = LogCapture.root(e -> LogCapture.warnOrAbove(e) ? e.getLoggerName() + ": " + e.getFormattedMessage() : null);
    io.vertx.core.internal.VertxInternal internal = (io.vertx.core.internal.VertxInternal) vertx;
    java.util.List<Future<Void>> closes = new java.util.ArrayList<>();
    java.util.List<Future<?>> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    for (int i = 0; i < 20; i++) {
      Redis redis = client(vertx, TestRedis.url());
      // Each client's first command opens the connection of a loop of its own; the close follows at once.
      io.vertx.core.Context loop = internal.createEventLoopContext();
      Promise<Void> closed = Promise.promise();
      loop.runOnContext(v -> {
        calls.add(redis.send(Request.cmd(Command.PING)));
        redis.close().onComplete(closed);
      });
      closes.add(closed.future());
    }
    Future.join(closes).onComplete(ar -> Future.join(calls).onComplete(answered -> vertx.setTimer(200, t -> ctx.verify(() -> {
      logged.close();
      assertTrue(ar.succeeded(), String.valueOf(ar.cause()));
      assertEquals(20, calls.size(), "every call sent before its client closed");
      assertTrue(calls.stream().allMatch(Future::isComplete), "every call ended, answered or failed");
      assertEquals(java.util.List.of(), logged.lines(), "logged while closing");
      ctx.completeNow();
    }))));
  }

  /**
   * While the server is down every line retries every {@value MultiplexedRedis#RENEW_INTERVAL_MS} ms; a failover drill
   * logged 58 "not replaced yet" lines in four seconds. One line per client per 10 s says it now.
   */
  @Test
  void aServerThatStaysDownIsReportedOncePerInterval(Vertx vertx, VertxTestContext ctx) throws Exception {
    java.util.concurrent.atomic.AtomicReference<LogCapture> lines = new java.util.concurrent.atomic.AtomicReference<>();
    EmbeddedRedis server = TestRedis.dedicated();
    Redis redis = client(vertx, server.url());
    java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
    connected(vertx, redis)
      .compose(up -> {
        // Listening before the stop: the first failed renewal may come before the stop call even returns.
        lines.set(LogCapture.of(MultiplexedRedis.class,
          e -> e.getFormattedMessage().startsWith("redis connection not replaced yet") ? e.getFormattedMessage() : null));
        return vertx.executeBlocking(() -> {
          server.stop();
          return null;
        });
      })
      .compose(down -> {
        // 2 s of calls, one every 50 ms: each failure lets the line try a new connection every 250 ms.
        Future<Void> chain = Future.succeededFuture();
        for (int i = 0; i < 40; i++) {
          chain = chain.compose(v -> redis.send(Request.cmd(Command.PING)).otherwise(err -> {
            failed.incrementAndGet();
            return null;
          }).compose(r -> vertx.timer(50)).mapEmpty());
        }
        return chain;
      })
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        lines.get().close();
        redis.close();
        assertEquals(40, failed.get(), "every call failed while the server was down");
        assertEquals(1, lines.get().lines().size(), lines.get().lines().toString());
        ctx.completeNow();
      })));
  }

  /**
   * A server that dies with requests unread resets its connections instead of closing them. The Redis client reports
   * a reset on a connection with no exception handler of its own as an ERROR with a stack trace ("Unhandled Error",
   * seen on a Cluster master killed under load), although every call waiting on it fails with the same cause. The
   * shared connections now take a reset as they take an orderly end: the line starts its replacement, and a server
   * that stays away is reported by the line's own throttled warning.
   */
  @Test
  void aConnectionResetIsReplacedWithoutAnErrorFromTheClient(Vertx vertx, VertxTestContext ctx) {
    java.net.URI server = java.net.URI.create(TestRedis.url());
    LogCapture logged = LogCapture.root(e -> LogCapture.warnOrAbove(e) ? e.getLevel() + " " + e.getLoggerName() + ": " + e.getFormattedMessage() : null);
    java.util.concurrent.atomic.AtomicBoolean refused = new java.util.concurrent.atomic.AtomicBoolean();
    TcpProxy.startResetting(vertx, server.getHost(), server.getPort()).compose(proxy -> {
      Redis redis = client(vertx, "redis://127.0.0.1:" + proxy.port());
      Redis direct = TestRedis.client(vertx);
      java.util.concurrent.atomic.AtomicReference<Future<Response>> blocked = new java.util.concurrent.atomic.AtomicReference<>();
      return connected(vertx, redis)
        .compose(up -> {
          // A blocking pop waits on a connection of its own when the reset comes.
          blocked.set(redis.send(Request.cmd(Command.BLPOP).arg("reset-test").arg(5)));
          return Eventually.until(vertx, () -> direct.send(Request.cmd(Command.CLIENT).arg("LIST").arg("TYPE").arg("normal"))
            .map(r -> r.toString().contains("cmd=blpop")), 5_000, "the pop waiting");
        })
        .compose(waiting -> proxy.cut())
        // Calls go on until one fails to connect: the line has tried a replacement, long after the reset arrived.
        .compose(cut -> Eventually.until(vertx, () -> redis.send(Request.cmd(Command.PING))
          .onFailure(err -> refused.compareAndSet(false, String.valueOf(err.getMessage()).contains("Connection refused")))
          .otherwiseEmpty().map(r -> refused.get() && blocked.get().failed()), 5_000, "a replacement attempted, the pop failed"))
        .eventually(redis::close).eventually(direct::close);
    }).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      logged.close();
      java.util.List<String> lines = logged.lines();
      // Only the client's loggers: with assertions on (as in tests, never in production) the client's own end
      // handler, which still runs after the reset, trips an assert of its own (an AssertionError from the context).
      assertTrue(lines.stream().noneMatch(l -> l.startsWith("ERROR io.vertx.redis")), lines.toString());
      ctx.completeNow();
    })));
  }

  /**
   * {@link MultiplexedRedis#renewAll()} (a Sentinel announced a new master): the next command goes out on a new
   * connection, however recently the line was last replaced.
   */
  @Test
  void renewAllMovesTheNextCommandToANewConnection(Vertx vertx, VertxTestContext ctx) {
    MultiplexedRedis redis = (MultiplexedRedis) client(vertx, TestRedis.url());
    connected(vertx, redis)
      .compose(up -> redis.send(Request.cmd(Command.CLIENT).arg("ID")))
      .compose(before -> {
        redis.renewAll();
        return redis.send(Request.cmd(Command.CLIENT).arg("ID")).map(after -> new long[] {before.toLong(), after.toLong()});
      })
      .eventually(redis::close)
      .onComplete(ctx.succeeding(ids -> ctx.verify(() -> {
        assertTrue(ids[0] != ids[1], "the same connection before and after: " + ids[0]);
        ctx.completeNow();
      })));
  }

  @Test
  void aBlockingPopDoesNotHoldUpTheSharedConnection(Vertx vertx, VertxTestContext ctx) {
    Redis redis = client(vertx, TestRedis.url());
    connected(vertx, redis).compose(warm -> {
      Future<Response> blocked = redis.send(Request.cmd(Command.BLPOP).arg("bg:test:empty-list").arg(2));
      return redis.send(Request.cmd(Command.SET).arg("bg:test:k").arg("v")).map(set -> {
        ctx.verify(() -> assertFalse(blocked.isComplete(), "SET answered while BLPOP still waits"));
        return blocked;
      }).compose(b -> b);
    }).onComplete(ctx.succeeding(popped -> ctx.verify(() -> {
      assertEquals(null, popped, "BLPOP ran to its own timeout");
      redis.close();
      ctx.completeNow();
    })));
  }

  @Test
  void aWaitInABatchDoesNotHoldUpTheSharedConnection(Vertx vertx, VertxTestContext ctx) {
    // A write followed by WAIT for a replica this server does not have: WAIT blocks its connection for its whole
    // timeout. Every other command must still be answered meanwhile (on Cluster, a promoted replica has no replica
    // of its own until the old master returns, and the ingest's WAITs stalled everything else on that master).
    Redis redis = client(vertx, TestRedis.url());
    connected(vertx, redis).compose(warm -> {
      Future<java.util.List<Response>> waiting = redis.batch(java.util.List.of(
        Request.cmd(Command.SET).arg("bg:test:waited").arg("v"), Request.cmd(Command.WAIT).arg(1).arg(1_500)));
      return redis.send(Request.cmd(Command.GET).arg("bg:test:waited")).map(read -> {
        ctx.verify(() -> assertFalse(waiting.isComplete(), "GET answered while WAIT still waits"));
        return waiting;
      }).compose(w -> w);
    }).onComplete(ctx.succeeding(replies -> ctx.verify(() -> {
      assertEquals(0L, replies.get(1).toLong(), "no replica acknowledged");
      redis.close();
      ctx.completeNow();
    })));
  }

  /**
   * After a Sentinel failover the old master, now a replica, drops its clients (and would refuse writes with
   * {@code READONLY}). Nothing was sent on the dropped connection, and a refused write was not run, so the client
   * sends the command to the new master Sentinel names: the caller sees its write succeed, not a failure it can do
   * nothing about (before: the first command after the switch failed, a {@code 503} for the request behind it).
   */
  @Test
  void theFirstWriteAfterASentinelFailoverLandsOnTheNewMaster(Vertx vertx, VertxTestContext ctx) {
    dev.biogate.support.TestSentinel group = dev.biogate.support.TestSentinel.get();
    dev.biogate.support.RedisProcess old = group.master();
    Redis redis = RedisClients.create(vertx, new RedisConfig(group.redisConfig().copy().put("commandTimeoutMs", 2_000)));
    connected(vertx, redis)
      .compose(v -> redis.send(Request.cmd(Command.SET).arg("bg:test:failover").arg("1")))
      .compose(v -> vertx.executeBlocking(() -> {
        group.failover();
        // The old master has been reconfigured as a replica: it refuses writes from now on.
        dev.biogate.support.RedisProcess.await("old master demoted", 15_000,
          () -> String.valueOf(old.call("ROLE")).contains("slave"));
        return null;
      }))
      .compose(v -> redis.send(Request.cmd(Command.SET).arg("bg:test:failover").arg("2")))
      .onComplete(ar -> ctx.verify(() -> {
        redis.close();
        assertTrue(ar.succeeded(), "the first write after the failover: " + ar.cause());
        assertEquals("OK", ar.result().toString());
        ctx.completeNow();
      }));
  }

  /**
   * Each event loop sends on a connection of its own (the server sees one client id per loop, the same one for every
   * call from that loop), and never more of them than half the pool: with {@code poolSize} 4, two.
   */
  @Test
  void eachEventLoopHasItsOwnConnectionUpToHalfThePool(Vertx vertx, VertxTestContext ctx) {
    java.util.List<io.vertx.core.Context> loops = eventLoops(vertx, 4);
    assertTrue(loops.size() >= 2, "the test needs two event loops at least: " + loops.size());
    Redis wide = TestRedis.client(vertx);
    Redis narrow = RedisClients.create(vertx, new RedisConfig(new JsonObject().put("url", TestRedis.url()).put("poolSize", 4)));
    clientIds(loops, wide).compose(w -> clientIds(loops, wide).map(again -> {
      assertEquals(w, again, "every call from one loop goes out on that loop's connection");
      assertEquals(loops.size(), new java.util.HashSet<>(w).size(), "one connection per loop: " + w);
      return null;
    })).compose(v -> clientIds(loops, narrow)).map(n -> {
      assertEquals(2, new java.util.HashSet<>(n).size(), "at most half of a pool of 4: " + n);
      return null;
    }).eventually(() -> Future.all(wide.close(), narrow.close())).onComplete(ctx.succeedingThenComplete());
  }

  /**
   * Replacing a shared connection never waits behind blocking commands. Every delivery's {@code WAIT} holds a pooled
   * connection while a replica is missing (a failover), and the shared connections came from the same pool: after a
   * Sentinel switch, the replacements queued behind those waits and commands on them took up to 2 s, then timed out.
   */
  @Test
  void aRenewedConnectionDoesNotWaitBehindBlockingCommands(Vertx vertx, VertxTestContext ctx) {
    MultiplexedRedis redis = (MultiplexedRedis) RedisClients.create(vertx,
      new RedisConfig(new JsonObject().put("url", TestRedis.url()).put("poolSize", 4)));
    Redis observer = TestRedis.client(vertx);
    String key = "bg:test:never-pushed:" + java.util.UUID.randomUUID();
    java.util.List<Future<Response>> blocked = new java.util.ArrayList<>();
    redis.send(Request.cmd(Command.PING))
      .compose(up -> {
        for (int i = 0; i < 6; i++) {
          blocked.add(redis.send(Request.cmd(Command.BLPOP).arg(key).arg(4)));
        }
        return Eventually.until(vertx, () -> observer.send(Request.cmd(Command.INFO).arg("clients"))
          .map(info -> blockedClients(info.toString()) >= 1), 5_000, "a blocking command parked on the server");
      })
      .compose(v -> {
        redis.renewAll();
        return redis.send(Request.cmd(Command.PING));
      })
      .onComplete(ar -> {
        long done = blocked.stream().filter(Future::isComplete).count();
        redis.close();
        ctx.verify(() -> {
          assertTrue(ar.succeeded(), "a command on the renewed connection: " + ar.cause());
          assertEquals("PONG", ar.result().toString());
          assertEquals(0, done, "answered while the blocking commands still held their connections");
        });
        ctx.completeNow();
      });
  }

  private static long blockedClients(String info) {
    for (String line : info.split("\r?\n")) {
      if (line.startsWith("blocked_clients:")) {
        return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
      }
    }
    throw new IllegalStateException("no blocked_clients in INFO clients");
  }

  /** After {@code warmUp}, the first call from every event loop finds its connection open: the server sees no new one. */
  @Test
  void warmUpOpensTheConnectionOfEveryEventLoop(Vertx vertx, VertxTestContext ctx) {
    io.vertx.core.internal.VertxInternal internal = (io.vertx.core.internal.VertxInternal) vertx;
    java.util.List<io.vertx.core.Context> loops = new java.util.ArrayList<>();
    internal.nettyEventLoopGroup().forEach(loop -> loops.add(internal.contextBuilder()
      .withThreadingModel(io.vertx.core.ThreadingModel.EVENT_LOOP).withEventLoop((io.netty.channel.EventLoop) loop).build()));
    MultiplexedRedis redis = MultiplexedRedis.create(vertx, RedisClients.options(
      new RedisConfig(new JsonObject().put("url", TestRedis.url()))).setMaxPoolSize(64), 2_000);
    long[] before = new long[1];
    redis.warmUp()
      .compose(v -> connectionsReceived(redis)).onSuccess(n -> before[0] = n)
      .compose(n -> clientIds(loops, redis))
      .compose(ids -> connectionsReceived(redis).map(after -> {
        assertEquals(loops.size(), new java.util.HashSet<>(ids).size(), "one connection per loop: " + ids);
        assertEquals(before[0], after, "no connection opened after the warm-up");
        return null;
      }))
      .eventually(redis::close).onComplete(ctx.succeedingThenComplete());
  }

  private static Future<Long> connectionsReceived(Redis redis) {
    return redis.send(Request.cmd(Command.INFO).arg("stats")).map(r -> {
      for (String line : r.toString().split("\r?\n")) {
        if (line.startsWith("total_connections_received:")) {
          return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
        }
      }
      throw new IllegalStateException("no total_connections_received in INFO stats");
    });
  }

  /** Contexts on up to {@code n} distinct event loops of {@code vertx}. */
  private static java.util.List<io.vertx.core.Context> eventLoops(Vertx vertx, int n) {
    io.vertx.core.internal.VertxInternal internal = (io.vertx.core.internal.VertxInternal) vertx;
    java.util.List<io.vertx.core.Context> loops = new java.util.ArrayList<>();
    java.util.Set<Object> seen = new java.util.HashSet<>();
    for (int i = 0; i < 64 && loops.size() < n; i++) {
      io.netty.channel.EventLoop loop = internal.nettyEventLoopGroup().next();
      if (seen.add(loop)) {
        loops.add(internal.contextBuilder().withThreadingModel(io.vertx.core.ThreadingModel.EVENT_LOOP)
          .withEventLoop(loop).build());
      }
    }
    return loops;
  }

  /** The server-side client id answering {@code CLIENT ID} sent from each context, in order. */
  private static Future<java.util.List<Long>> clientIds(java.util.List<io.vertx.core.Context> callers, Redis redis) {
    java.util.List<Future<Long>> ids = new java.util.ArrayList<>();
    for (io.vertx.core.Context caller : callers) {
      io.vertx.core.Promise<Long> id = io.vertx.core.Promise.promise();
      caller.runOnContext(v -> redis.send(Request.cmd(Command.CLIENT).arg("ID")).map(Response::toLong).onComplete(id));
      ids.add(id.future());
    }
    return Future.all(ids).map(all -> {
      java.util.List<Long> out = new java.util.ArrayList<>();
      ids.forEach(f -> out.add(f.result()));
      return out;
    });
  }

  /**
   * The commands one event loop sends in one turn leave in one socket write. The client flushed each command on its
   * own (a {@code send} system call per command, and the server read them one by one): under the webhook ingest load
   * those writes were a fifth of the event loops' CPU.
   */
  @Test
  void theCommandsOfOneTurnLeaveInOneWrite(Vertx vertx, VertxTestContext ctx) {
    Redis redis = client(vertx, TestRedis.url());
    java.util.concurrent.atomic.AtomicInteger flushes = new java.util.concurrent.atomic.AtomicInteger();
    io.vertx.core.Context loop = vertx.getOrCreateContext();
    int commands = 50;
    connected(vertx, redis).compose(warm -> {
      Promise<java.util.List<Response>> answered = Promise.promise();
      loop.runOnContext(v -> ((MultiplexedRedis) redis).sharedConnection().onComplete(conn -> {
        // Counts the flushes that reach the socket, whatever sits between the client and it.
        WriteCoalescing.pipeline(conn.result()).addFirst(new io.netty.channel.ChannelOutboundHandlerAdapter() {
          @Override
          public void flush(io.netty.channel.ChannelHandlerContext c) {
            flushes.incrementAndGet();
            c.flush();
          }
        });
        loop.runOnContext(turn -> {
          java.util.List<Future<Response>> calls = new java.util.ArrayList<>();
          for (int i = 0; i < commands; i++) {
            calls.add(redis.send(Request.cmd(Command.ECHO).arg("c" + i)));
          }
          Future.all(calls).map(all -> {
            java.util.List<Response> replies = new java.util.ArrayList<>();
            calls.forEach(c -> replies.add(c.result()));
            return replies;
          }).onComplete(answered);
        });
      }));
      return answered.future();
    }).onComplete(ctx.succeeding(replies -> ctx.verify(() -> {
      for (int i = 0; i < commands; i++) {
        assertEquals("c" + i, replies.get(i).toString(), "each command answered in order");
      }
      assertTrue(flushes.get() <= 2, commands + " commands sent in one turn took " + flushes.get() + " socket writes");
      redis.close();
      ctx.completeNow();
    })));
  }

  @Test
  void answersContinueOnTheCallersContext(Vertx vertx, VertxTestContext ctx) {
    Redis redis = client(vertx, TestRedis.url());
    // The shared connection was opened from another context; two different callers each get their reply back on
    // their own (a request's duplicated context carries request-scoped data such as the client a miss is charged to).
    connected(vertx, redis).onComplete(ctx.succeeding(warm -> {
      io.vertx.core.internal.ContextInternal a = ((io.vertx.core.internal.ContextInternal) vertx.getOrCreateContext()).duplicate();
      io.vertx.core.Context b = vertx.getOrCreateContext();
      java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
      for (io.vertx.core.Context caller : java.util.List.of(a, b)) {
        caller.runOnContext(v -> redis.send(Request.cmd(Command.PING)).onComplete(ar -> ctx.verify(() -> {
          assertTrue(ar.succeeded(), String.valueOf(ar.cause()));
          assertTrue(vertx.getOrCreateContext() == caller, "the reply continues on the context that sent the command");
          if (answered.incrementAndGet() == 2) {
            redis.close();
            ctx.completeNow();
          }
        })));
      }
    }));
  }

  @Test
  void refusesSubscriptionsAndUnboundedBlocksOnTheSharedConnection(Vertx vertx, VertxTestContext ctx) {
    Redis redis = client(vertx, TestRedis.url());
    redis.send(Request.cmd(Command.SUBSCRIBE).arg("bg:test")).onComplete(sub -> redis.send(Request.cmd(Command.BLPOP)
      .arg("bg:test:list").arg(0)).onComplete(forever -> ctx.verify(() -> {
        assertTrue(sub.failed() && sub.cause().getMessage().contains("connect()"), String.valueOf(sub.cause()));
        assertTrue(forever.failed() && forever.cause().getMessage().contains("for ever"), String.valueOf(forever.cause()));
        redis.close();
        ctx.completeNow();
      })));
  }

  @Test
  void recoversAfterTheServerRestarts(Vertx vertx, VertxTestContext ctx) throws Exception {
    EmbeddedRedis server = TestRedis.dedicated();
    Redis redis = client(vertx, server.url());
    connected(vertx, redis).compose(warm -> redis.send(Request.cmd(Command.SET).arg("k").arg("before")))
      .compose(ok -> vertx.executeBlocking(() -> {
        server.restart();
        return null;
      }))
      .compose(v -> Eventually.until(vertx, () -> redis.send(Request.cmd(Command.SET).arg("k").arg("after")).map(true),
        10_000, "writes accepted again after the restart"))
      .onComplete(ctx.succeeding(v -> {
        redis.close();
        vertx.executeBlocking(() -> {
          server.stop();
          return null;
        });
        ctx.completeNow();
      }));
  }

  /**
   * After a restart (or a failover) every connection of every client is replaced: that is said once per interval for
   * the whole process, with how many more were replaced, not once per connection (39 INFO lines per instance over
   * three Sentinel failovers in a drill).
   */
  @Test
  void replacementsAfterARestartAreReportedOncePerInterval(Vertx vertx, VertxTestContext ctx) throws Exception {
    EmbeddedRedis server = TestRedis.dedicated();
    java.util.List<io.vertx.core.Context> loops = eventLoops(vertx, 2);
    Redis one = client(vertx, server.url());
    Redis two = client(vertx, server.url());
    LogCapture said = LogCapture.of(MultiplexedRedis.class, e -> e.getLevel() + " " + e.getFormattedMessage());
    java.util.List<Long> before = new java.util.ArrayList<>();
    clientIds(loops, one).compose(a -> clientIds(loops, two).map(b -> before.addAll(a) && before.addAll(b)))
      .compose(warm -> vertx.executeBlocking(() -> {
        server.restart();
        return null;
      }))
      .compose(v -> Eventually.until(vertx, () -> clientIds(loops, one).compose(a -> clientIds(loops, two)).map(true),
        10_000, "every connection replaced"))
      .compose(v -> clientIds(loops, one).compose(a -> clientIds(loops, two).map(b -> {
        java.util.Set<Long> after = new java.util.HashSet<>(a);
        after.addAll(b);
        return after;
      })).compose(after -> connectionsReceived(one).map(received -> {
        assertEquals(before.size(), after.size(), "a connection per loop and client after the restart: " + after);
        assertTrue(received >= after.size(), "every connection replaced: the restarted server received " + received);
        return after;
      })))
      .eventually(() -> {
        said.close();
        return Future.all(one.close(), two.close());
      })
      .onComplete(ctx.succeeding(after -> ctx.verify(() -> {
        // One line for all of them; none when another test of this JVM reported one less than an interval ago.
        java.util.List<String> replaced = said.lines().stream().filter(l -> l.contains("redis connection replaced")).toList();
        assertTrue(replaced.size() <= 1, "one line for " + after.size() + " connections: " + said.lines());
        replaced.forEach(l -> assertTrue(l.startsWith("INFO"), l));
        vertx.executeBlocking(() -> {
          server.stop();
          return null;
        });
        ctx.completeNow();
      })));
  }
}
