package dev.biogate.ops;

import dev.biogate.config.BiogateConfig;
import dev.biogate.config.SandboxOptions;
import dev.biogate.support.HarnessTest;
import io.vertx.core.json.JsonObject;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.biogate.upstream.LinktreeClient;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code webhooks list|register|delete|enable} against the sandbox's subscription API, over real HTTP. */
class WebhooksCommandTest extends HarnessTest {

  private static final String URL = "https://gateway.example.com/webhooks/linktree";

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return run(new JsonObject(), args);
  }

  private int run(JsonObject overrides, String... args) {
    out.reset();
    err.reset();
    BiogateConfig config = h.config(overrides);
    return new WebhooksCommand(h.vertx, config, new PrintStream(out, true, StandardCharsets.UTF_8),
      new PrintStream(err, true, StandardCharsets.UTF_8)).run(List.of(args));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void registersListsReEnablesAndDeletesTheSubscription() {
    assertEquals(0, run("list"));
    assertEquals("no webhook subscriptions", out().trim());

    assertEquals(0, run("register", "--url", URL, "--events", "link.created,link.updated,profile.updated"));
    assertTrue(out().startsWith("registered: wh_1  enabled   " + URL + "  link.created,link.updated,profile.updated"), out());

    assertEquals(0, run("list"));
    assertEquals("wh_1  enabled   " + URL + "  link.created,link.updated,profile.updated", out().trim());

    // Linktree disables a webhook after 72 h of failed deliveries; the sandbox can play that.
    assertEquals(200, h.http.post(h.sandboxPort(), "127.0.0.1", "/__sandbox/webhooks/wh_1/disable").send().await().statusCode());
    assertEquals(0, run("list"));
    assertTrue(out().startsWith("wh_1  disabled"), out());
    assertEquals(0, run("enable", "wh_1"));
    assertTrue(out().startsWith("enabled: wh_1  enabled "), out());
    assertEquals(0, run("list"));
    assertTrue(out().startsWith("wh_1  enabled "), out());

    assertEquals(0, run("delete", "wh_1"));
    assertEquals("deleted: wh_1", out().trim(), "a row like the other subcommands', not the upstream's JSON");
    assertEquals(0, run("list"));
    assertEquals("no webhook subscriptions", out().trim());

    JsonObject paths = h.sandboxStats().await().getJsonObject("by_path");
    assertEquals(6, paths.getInteger("/webhooks"), "five lists and one registration, each one upstream call");
    assertEquals(1, paths.getInteger("/webhooks/wh_1/enable"));
    assertEquals(1, paths.getInteger("/webhooks/wh_1"));
  }

  /** A plain http URL away from loopback is registered but said: Linktree delivers to https URLs only. */
  @Test
  void aPlainHttpUrlIsRegisteredWithANote() {
    assertEquals(0, run("register", "--url", "http://gateway.example.com/webhooks/linktree", "--events", "link.created"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("plain http"), err.toString(StandardCharsets.UTF_8));
    assertEquals(0, run("register", "--url", "http://127.0.0.1:8080/webhooks/linktree", "--events", "link.created"));
    assertFalse(err.toString(StandardCharsets.UTF_8).contains("plain http"), "loopback, a local test: no note");
    assertEquals(0, run("register", "--url", URL, "--events", "link.created"));
    assertFalse(err.toString(StandardCharsets.UTF_8).contains("plain http"), err.toString(StandardCharsets.UTF_8));
  }

  /** Found by a newcomer: an upstream answering {@code {}} was printed as "registered: {}" with exit 0. */
  @Test
  void anAnswerWithoutTheSubscriptionsIsAFailure() {
    io.vertx.core.http.HttpServer upstream = h.vertx.createHttpServer()
      .requestHandler(req -> req.response().putHeader("Content-Type", "application/json").end("{}"))
      .listen(0, "127.0.0.1").await();
    try {
      JsonObject there = new JsonObject().put("linktree", new JsonObject()
        .put("apiBase", "http://127.0.0.1:" + upstream.actualPort()).put("token", "a-test-token"));
      assertEquals(1, run(there, "register", "--url", URL, "--events", "link.created"));
      assertTrue(err.toString(StandardCharsets.UTF_8).contains("no subscription id"), err.toString(StandardCharsets.UTF_8));
      assertFalse(out().contains("registered"), out());
      assertEquals(1, run(there, "list"));
      assertTrue(err.toString(StandardCharsets.UTF_8).contains("not a list of subscriptions"), err.toString(StandardCharsets.UTF_8));
    } finally {
      upstream.close().await();
    }
  }

  @Test
  void refusesBadUsageAndReportsUpstreamRefusalsWithoutPrintingTheToken() {
    assertEquals(2, run());
    assertEquals(2, run("rename"));
    assertEquals(2, run("register", "--url", URL));
    assertEquals(2, run("register", "--url", URL, "--events", "link.clicked"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown event type 'link.clicked'"));
    assertEquals(2, run("register", "--url", "ftp://x", "--events", "link.created"));
    assertEquals(2, run("delete"));
    assertEquals(2, run("delete", "../me"));
    assertEquals(1, run("delete", "wh_404"));
    String said = err.toString(StandardCharsets.UTF_8);
    // An unknown subscription, not "no such profile upstream" (the profile client's 404 text, as a newcomer read it).
    assertTrue(said.contains("no webhook subscription with id 'wh_404'"), said);
    assertFalse(said.contains("profile"), said);
    assertFalse(said.contains(SandboxOptions.DEFAULT_TOKEN) || out().contains(SandboxOptions.DEFAULT_TOKEN));
  }

  @Test
  void aRefusedTokenIsReportedOnceInTheCommandsOwnWordsNotTheServingGatewaysWarning() {
    Logger logger = (Logger) LoggerFactory.getLogger(LinktreeClient.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    try {
      JsonObject wrongToken = new JsonObject().put("linktree", new JsonObject().put("token", "not-the-sandbox-token"));
      assertEquals(1, run(wrongToken, "list"));
      String said = err.toString(StandardCharsets.UTF_8);
      assertTrue(said.contains("401") && said.contains("API token"), said);
      assertFalse(said.contains("not-the-sandbox-token") || out().contains("not-the-sandbox-token"));
      // A one-shot command serves no reads: a line about misses answered 503 would only mislead whoever runs it.
      assertEquals(List.of(), lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList());
    } finally {
      logger.detachAppender(lines);
    }
  }
}
