package dev.biogate.ops;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import dev.biogate.support.Harness;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the gateway writes to its log, encoded exactly as production encodes it (the STDOUT appender's own
 * encoder), never contains a configured secret, a raw visitor IP or an e-mail address.
 */
@ExtendWith(VertxExtension.class)
class LogHygieneTest {

  private static final String UPSTREAM_TOKEN = "lt_tok_SECRET_do_not_log_123";
  private static final String WEBHOOK_SECRET = "whsec_SECRET_do_not_log_456";
  private static final String ADMIN_TOKEN = "admin_SECRET_do_not_log_789";

  private final StringBuilder captured = new StringBuilder();
  private AppenderBase<ILoggingEvent> capture;

  @BeforeEach
  @SuppressWarnings("unchecked")
  void attach() {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Encoder<ILoggingEvent> encoder = ((OutputStreamAppender<ILoggingEvent>) root.getAppender("STDOUT")).getEncoder();
    capture = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent e) {
        synchronized (captured) {
          captured.append(new String(encoder.encode(e), StandardCharsets.UTF_8));
        }
      }
    };
    capture.setContext(root.getLoggerContext());
    capture.start();
    root.addAppender(capture);
  }

  @AfterEach
  void detach() {
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(capture);
  }

  private static final String CREATOR_KEY = "bgk_0123456789abcdef_" + "Zx9-_".repeat(8) + "abc";

  @Test
  void logsCarryNoSecretNoRawIpAndNoEmail(Vertx vertx, VertxTestContext ctx) {
    Harness h = new Harness(vertx);
    JsonObject cfg = new JsonObject()
      .put("linktree", new JsonObject().put("token", UPSTREAM_TOKEN).put("maxRetries", 0))
      .put("webhooks", new JsonObject().put("linktree", new JsonObject().put("secrets", WEBHOOK_SECRET)))
      .put("admin", new JsonObject().put("token", ADMIN_TOKEN));
    h.start()
      .compose(v -> h.gateway(cfg))
      .compose(g -> Future.all(
          h.get(g, "/v1/profiles/demo"), // the sandbox refuses this token: an upstream auth failure gets logged
          h.http.post(g.port(), "127.0.0.1", "/webhooks/linktree").putHeader("Content-Type", "application/json")
            .putHeader("x-linktree-signature", "00").putHeader("x-linktree-timestamp", "1").sendBuffer(io.vertx.core.buffer.Buffer.buffer("{}")),
          h.http.get(g.managementPort(), "127.0.0.1", "/admin/dead-letters").putHeader("Authorization", "Bearer " + ADMIN_TOKEN + "x").send())
        .eventually(h::close))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        // Code paths that do mention visitors, as a handler might: masked on the way out.
        LoggerFactory.getLogger("dev.biogate.test").warn("suspicious client 203.0.113.77 (2001:db8:85a3:8d3:1319:8a2e:370:7348) "
          + "wrote from jane.doe@example.com with Authorization: Bearer {} to a listener on 0.0.0.0", UPSTREAM_TOKEN);
        // A creator key pasted where it does not belong (an attack pass found one in a request path, logged whole).
        LoggerFactory.getLogger("dev.biogate.test").warn("GET /v1/profiles/{} 404", CREATOR_KEY);
        String log;
        synchronized (captured) {
          log = captured.toString();
        }
        assertTrue(log.contains("suspicious client"), "the capture sees production-encoded lines");
        assertTrue(log.contains("GET /v1/profiles/bgk_0123456789abcdef_**** 404"), "a creator key keeps its id alone: " + log);
        for (String secret : new String[] {UPSTREAM_TOKEN, WEBHOOK_SECRET, ADMIN_TOKEN, CREATOR_KEY}) {
          assertFalse(log.contains(secret), "secret in logs: " + secret);
        }
        assertFalse(log.contains("203.0.113.77"), "raw IPv4 in logs");
        assertFalse(log.contains("8a2e:370:7348"), "raw IPv6 in logs");
        assertFalse(log.contains("jane.doe@example.com"), "raw e-mail in logs");
        assertTrue(log.contains("203.0.x.x") && log.contains("j***@example.com"), "masked forms remain useful: " + log);
        // The wildcard address names nobody: a newcomer read "listening on 0.0.x.x without TLS" and wondered.
        assertTrue(log.contains("a listener on 0.0.0.0"), "the wildcard address is not masked: " + log);
        ctx.completeNow();
      })));
  }
}
