package dev.biogate.ops;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.Chromium;
import dev.biogate.support.HarnessTest;
import dev.biogate.support.Receiver;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator console in a real headless Chromium: the page loads, asks for the admin token, draws the budget
 * chart, breakers, cache and streams from the admin API, looks a delivery up, and replays a dead letter through its
 * button; the replay's effect is checked in Redis and in the delivery history. Skipped only when the machine has no
 * Chromium binary. With {@code -Dbiogate.console.screenshot=docs/console.png} it also saves a screenshot.
 */
class ConsoleChromiumTest extends HarnessTest {

  private Receiver alertSink;
  private Chromium browser;

  @BeforeEach
  void start(VertxTestContext ctx) {
    Assumptions.assumeTrue(Chromium.binary() != null, "no chromium binary on this machine");
    h.receiver(500).onSuccess(r -> alertSink = r).onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void closeBrowser() {
    if (browser != null) {
      browser.close();
    }
  }

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  void showsTheGatewayAndReplaysADeadLetterThroughItsButton(Vertx vertx, VertxTestContext ctx) {
    JsonObject cfg = Deliveries.config().put("webhooks", Deliveries.webhooks().put("alerts", new JsonObject()
      .put("url", alertSink.url("/alerts")).put("secret", "alert-secret")));
    AtomicReference<Gateway> gw = new AtomicReference<>();
    h.gateway(cfg).compose(g -> {
        gw.set(g);
        // A profile miss spends a foreground permit (the chart has a bar); a milestone whose alert sink fails becomes a
        // dead letter after the configured attempts.
        return h.get(g, "/v1/profiles/demo").compose(r -> milestone(g, "m-console"))
          .compose(v -> h.eventually(() -> admin(g, "/admin/deliveries/m-console")
            .map(r -> "dead_lettered".equals(r.bodyAsJsonObject().getString("outcome"))), 15_000));
      })
      .compose(v -> Chromium.launch(vertx, Chromium.binary()))
      .compose(b -> {
        browser = b;
        return b.navigate("http://127.0.0.1:" + gw.get().managementPort() + "/admin/ui");
      })
      .compose(v -> browser.until("document.readyState === 'complete' && !document.getElementById('login').hidden", 20_000))
      // A wrong token is refused and the page asks again.
      .compose(v -> browser.eval(login("not-the-token")))
      .compose(v -> browser.until("!document.getElementById('login-error').hidden", 10_000))
      .compose(v -> browser.eval(login(Deliveries.ADMIN_TOKEN)))
      .compose(v -> browser.until("document.body.dataset.loaded === 'true'"
        + " && document.querySelectorAll('#dead-letters button.replay').length === 1", 20_000))
      .compose(v -> Future.all(
        browser.eval("document.querySelectorAll('#budget-chart rect.lane.FOREGROUND').length"),
        browser.eval("document.querySelector('#breakers dd').textContent"),
        browser.eval("document.querySelector('#dead-letters tbody tr td:nth-child(4)').textContent"),
        browser.eval("document.getElementById('hit-ratio').textContent")))
      .compose(all -> {
        ctx.verify(() -> {
          assertTrue(((Number) all.resultAt(0)).intValue() >= 1, "a bar for the minute(s) with foreground use");
          assertEquals("closed", all.resultAt(1));
          assertEquals("m-console", all.resultAt(2));
          assertEquals("0.0 %", all.resultAt(3), "one read, a miss");
        });
        return browser.eval("document.getElementById('delivery-id').value = 'm-console';"
          + " document.getElementById('lookup-form').requestSubmit(); true");
      })
      .compose(v -> browser.until("document.querySelector('#delivery-result tr[data-field=outcome] td')"
        + " && document.querySelector('#delivery-result tr[data-field=outcome] td').textContent === 'dead_lettered'", 10_000))
      .compose(v -> screenshot())
      .compose(v -> {
        alertSink.answer(200);
        return browser.eval("document.querySelector('#dead-letters button.replay').click(); true");
      })
      .compose(v -> browser.until("document.querySelector('#dead-letters tr[data-replayed]') !== null", 10_000))
      .compose(v -> h.eventually(() -> admin(gw.get(), "/admin/deliveries/m-console")
        .map(r -> "handled".equals(r.bodyAsJsonObject().getString("outcome"))), 15_000))
      .compose(v -> Future.all(h.redis(Request.cmd(Command.XLEN).arg(RedisKeys.deadLettersShard(0))),
        admin(gw.get(), "/admin/deliveries/m-console")))
      .compose(all -> {
        ctx.verify(() -> {
          assertEquals(0, all.<io.vertx.redis.client.Response>resultAt(0).toInteger(), "the dead letter left the stream");
          JsonObject history = all.<HttpResponse<Buffer>>resultAt(1).bodyAsJsonObject();
          assertEquals(1, history.getInteger("replays"));
          assertEquals(1, alertSink.answered(200).size(), "delivered once after the replay");
        });
        // The page refreshes itself after a replay: the list is empty, and a lookup shows the new outcome.
        return browser.until("document.getElementById('dead-count').textContent === '(0)'", 10_000);
      })
      .compose(v -> browser.eval("document.getElementById('lookup-form').requestSubmit(); true"))
      .compose(v -> browser.until("document.querySelector('#delivery-result tr[data-field=outcome] td')"
        + " && document.querySelector('#delivery-result tr[data-field=outcome] td').textContent === 'handled'"
        + " && document.querySelector('#delivery-result tr[data-field=attempts] td').textContent === '4'", 10_000))
      .onComplete(ctx.succeedingThenComplete());
  }

  private static String login(String token) {
    return "document.getElementById('token').value = '" + token + "';"
      + " document.getElementById('token-form').requestSubmit(); true";
  }

  private Future<Void> screenshot() {
    String target = System.getProperty("biogate.console.screenshot");
    if (target == null || target.isBlank()) {
      return Future.succeededFuture();
    }
    return h.vertx.executeBlocking(() -> Files.readString(Path.of("src/main/resources/console/console.css")))
      .compose(css -> browser.screenshot(Chromium.binary(), css, Path.of(target)));
  }

  private Future<Void> milestone(Gateway g, String deliveryId) {
    Buffer body = Deliveries.milestone("lnk_demo_01", 1000);
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(deliveryId, body), body).mapEmpty();
  }

  private Future<HttpResponse<Buffer>> admin(Gateway g, String path) {
    return h.send(HttpMethod.GET, g, path, Deliveries.ADMIN_TOKEN);
  }
}
