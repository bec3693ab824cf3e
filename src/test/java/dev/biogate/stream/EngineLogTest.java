package dev.biogate.stream;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.biogate.support.Eventually;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When Redis goes away every engine fails at once: the first failure is one line at once, the others failing the same
 * way are one line when the window closes, counted per stream kind; another event (recovery) has its own lines.
 */
@ExtendWith(VertxExtension.class)
class EngineLogTest {

  private static final String DOWN = "cannot read (ConnectException); retrying with backoff";

  private static ListAppender<ILoggingEvent> capture(Logger logger) {
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    return lines;
  }

  @Test
  void engineFailuresOfOneKindAreOneLineNowAndOneSummaryLater(Vertx vertx, VertxTestContext ctx) {
    Logger logger = (Logger) LoggerFactory.getLogger("dev.biogate.test.EngineLogTest");
    ListAppender<ILoggingEvent> lines = capture(logger);
    EngineLog log = new EngineLog(logger);
    log.report(vertx, "bg:events:{bg:s0:51}/biogate", DOWN, true);
    for (int s = 1; s < 16; s++) {
      log.report(vertx, "bg:events:{bg:s" + s + ":7}/biogate", DOWN, true);
      log.report(vertx, "bg:clicks:{bg:s" + s + ":7}/analytics", DOWN, true);
    }
    log.report(vertx, "bg:out:{out}/destinations", DOWN, true);
    log.report(vertx, "bg:events:{bg:s0:51}/biogate", "is reading again", false);
    log.report(vertx, "bg:events:{bg:s1:7}/biogate", "is reading again", false);
    log.report(vertx, "bg:events:{bg:s2:7}/biogate", "is reading again", false);
    assertEquals(List.of(
      "WARN bg:events:{bg:s0:51}/biogate " + DOWN,
      "INFO bg:events:{bg:s0:51}/biogate is reading again"), text(lines), "first of each event at once");
    Eventually.until(vertx, () -> io.vertx.core.Future.succeededFuture(text(lines).size() == 4), 10_000, "the summary lines")
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      assertTrue(text(lines).contains("WARN 31 more streams " + DOWN + ": 15 of bg:clicks, 15 of bg:events, 1 of bg:out"), text(lines).toString());
      // A summary of an event written for one stream agrees with several ("are", not "is").
      assertTrue(text(lines).contains("INFO 2 more streams are reading again: 2 of bg:events"), text(lines).toString());
      logger.detachAppender(lines);
      ctx.completeNow();
    })));
  }

  private static List<String> text(ListAppender<ILoggingEvent> lines) {
    synchronized (lines.list) {
      return lines.list.stream().map(e -> (e.getLevel() == Level.WARN ? "WARN " : "INFO ") + e.getFormattedMessage())
        .collect(Collectors.toList());
    }
  }

  @Test
  void aWindowWhoseVertxClosedBeforeItsTimerIsClosedByTheNextReport(Vertx vertx, VertxTestContext ctx) {
    Logger logger = (Logger) LoggerFactory.getLogger("dev.biogate.test.EngineLogTest.stale");
    ListAppender<ILoggingEvent> lines = capture(logger);
    EngineLog log = new EngineLog(logger, 50);
    Vertx gone = Vertx.vertx();
    log.report(gone, "bg:events:{bg:s0:51}/biogate", DOWN, true);
    log.report(gone, "bg:events:{bg:s1:7}/biogate", DOWN, true);
    gone.close()
      // The window's timer died with its Vert.x: a later report (after two windows) closes it and logs at once.
      .compose(v -> Eventually.until(vertx, () -> {
        log.report(vertx, "bg:clicks:{bg:s2:7}/analytics", DOWN, true);
        return io.vertx.core.Future.succeededFuture(text(lines).contains("WARN bg:clicks:{bg:s2:7}/analytics " + DOWN));
      }, 10_000, "a fresh line once the stale window is over"))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        List<String> all = text(lines);
        assertEquals("WARN bg:events:{bg:s0:51}/biogate " + DOWN, all.get(0));
        // The stale window is summarised (with the reports made while it still looked open), then the fresh line.
        assertEquals(3, all.size(), "first line, the stale window's summary, the fresh line: " + all);
        assertTrue(all.get(1).startsWith("WARN ") && all.get(1).contains(" more stream") && all.get(1).contains("1 of bg:events"),
          "the stale window summarised: " + all);
        assertEquals("WARN bg:clicks:{bg:s2:7}/analytics " + DOWN, all.get(2));
        logger.detachAppender(lines);
        ctx.completeNow();
      })));
  }
}
