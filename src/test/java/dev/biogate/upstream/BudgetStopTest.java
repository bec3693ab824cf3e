package dev.biogate.upstream;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Stopping the budget while its first report is still unanswered (a gateway stopped, or refused, right after start)
 * is not an outage: the report then fails with the closing client, and nothing is logged about Redis being
 * unreachable. It used to log "redis unreachable for the shared upstream budget" on every such stop.
 */
@ExtendWith(VertxExtension.class)
class BudgetStopTest {

  @Test
  void aReportCutShortByStoppingIsNotReportedAsAnOutage(Vertx vertx, VertxTestContext ctx) {
    Logger logger = (Logger) LoggerFactory.getLogger(RedisBudget.class);
    ListAppender<ILoggingEvent> lines = capture(logger);
    // A server that takes the report and never answers: the report stays in flight until the client closes.
    Promise<Void> reportArrived = Promise.promise();
    NetServer silent = vertx.createNetServer().connectHandler(socket -> socket.handler(bytes -> reportArrived.tryComplete()));
    silent.listen(0, "127.0.0.1").compose(s -> {
      Redis real = Redis.createClient(vertx, "redis://127.0.0.1:" + s.actualPort());
      Sent redis = new Sent(real);
      RedisBudget budget = new RedisBudget(vertx, redis, "stop-test", 90, 60_000, 1_000, LaneShares.defaults());
      budget.start(60_000);
      return reportArrived.future()
        .compose(v -> budget.stop())
        .compose(v -> real.close())
        // Listeners run in the order they were added: these run after the budget's own handling of each failure.
        .compose(v -> Future.join(redis.sent).otherwiseEmpty());
    }).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      logger.detachAppender(lines);
      silent.close();
      List<String> warnings = lines.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
        .map(ILoggingEvent::getFormattedMessage).toList();
      assertEquals(List.of(), warnings);
      ctx.completeNow();
    })));
  }

  /**
   * The Klaviyo sink's pace is a budget of the same kind: its trouble is logged under its own name. A Cluster drill saw
   * "redis unreachable for the shared upstream budget" when the master holding the Klaviyo pace died, the Linktree
   * budget's master alive.
   */
  @Test
  void aBudgetNamesItselfWhenRedisIsUnreachable(Vertx vertx, VertxTestContext ctx) {
    Logger logger = (Logger) LoggerFactory.getLogger(RedisBudget.class);
    ListAppender<ILoggingEvent> lines = capture(logger);
    // A port nothing listens on: the first report fails at once.
    NetServer closed = vertx.createNetServer().connectHandler(socket -> { });
    closed.listen(0, "127.0.0.1").compose(s -> closed.close().map(s.actualPort())).compose(port -> {
      Redis unreachable = Redis.createClient(vertx, "redis://127.0.0.1:" + port);
      RedisBudget budget = new RedisBudget(vertx, unreachable, "klaviyo", 75, 1_000, 1_000, new LaneShares(0, 0));
      budget.start(60_000);
      return dev.biogate.support.Eventually.until(vertx, () -> Future.succeededFuture(lines.list.stream()
          .anyMatch(e -> e.getLevel() == Level.WARN)), 10_000, "a warning")
        .compose(v -> budget.stop()).compose(v -> unreachable.close());
    }).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      logger.detachAppender(lines);
      List<String> warnings = lines.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
        .map(ILoggingEvent::getFormattedMessage).toList();
      assertTrue(warnings.get(0).startsWith("redis unreachable for the shared klaviyo budget"), warnings.toString());
      assertTrue(warnings.stream().noneMatch(w -> w.contains("upstream")), warnings.toString());
      ctx.completeNow();
    })));
  }

  /** A started appender collecting what {@code logger} writes, until detached. */
  private static ListAppender<ILoggingEvent> capture(Logger logger) {
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    return lines;
  }

    /** The client, keeping the future of every command sent through it. */
  private static final class Sent implements Redis {
    private final Redis real;
    final List<Future<Response>> sent = new CopyOnWriteArrayList<>();

    Sent(Redis real) {
      this.real = real;
    }

    @Override
    public Future<RedisConnection> connect() {
      return real.connect();
    }

    @Override
    public Future<Void> close() {
      return real.close();
    }

    @Override
    public Future<Response> send(Request command) {
      Future<Response> f = real.send(command);
      sent.add(f);
      return f;
    }

    @Override
    public Future<List<Response>> batch(List<Request> commands) {
      return real.batch(commands);
    }
  }
}
