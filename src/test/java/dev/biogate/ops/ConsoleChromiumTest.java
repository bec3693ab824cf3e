package dev.biogate.ops;

import dev.biogate.Gateway;
import dev.biogate.destination.OutboundKeys;
import dev.biogate.support.Chromium;
import dev.biogate.support.Harness;
import dev.biogate.support.Receiver;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
@ExtendWith(VertxExtension.class)
class ConsoleChromiumTest {

  private Harness h;
  private Receiver receiver;
  private Chromium browser;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    if (Chromium.binary() == null) {
      // CI must run the console for real (.ci/run installs Chromium); elsewhere a missing browser skips it.
      Assertions.assertNull(System.getenv("CI"), "CI is set but there is no chromium binary: the console test must run in CI");
      Assumptions.abort("no chromium binary on this machine (apt-get install chromium): the console test is skipped");
    }
    h = new Harness(vertx);
    receiver = new Receiver(vertx);
    receiver.status.set(500);
    receiver.start().compose(r -> h.start()).onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    if (h == null) {
      // Nothing was started: the browser is missing.
      ctx.completeNow();
      return;
    }
    try {
      if (browser != null) {
        browser.close();
      }
    } finally {
      // Whatever the browser's clean-up did, the gateway must not outlive the test: a running instance would share
      // the next tests' Redis and upstream budget.
      h.close().compose(v -> receiver.close()).onComplete(ctx.succeedingThenComplete());
    }
  }

  /** The lookup's {@code destinations} cell holds the destinations' deliveries as JSON: the first one's field. */
  private static String lookedUpDestination(String field) {
    return "(function () { var td = document.querySelector('#delivery-result tr[data-field=destinations] td');"
      + " return td ? JSON.parse(td.textContent)[0]." + field + " : null; })()";
  }

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  void showsTheGatewayAndReplaysADeadLetterThroughItsButton(Vertx vertx, VertxTestContext ctx) {
    JsonObject cfg = Deliveries.config().put("destinations", receiver.destinations("ops", "linktree.analytics.milestone")
      .put("maxAttempts", 3).put("retryBaseMs", 20).put("retryMaxMs", 100))
      // demo is a known name: its miss spends foreground permits (a never-seen name's pages all take the first-sight lane).
      .put("linktree", new JsonObject().put("firstSight", new JsonObject().put("known", new io.vertx.core.json.JsonArray().add("demo"))));
    AtomicReference<Gateway> gw = new AtomicReference<>();
    h.gateway(cfg).compose(g -> {
        gw.set(g);
        // A profile miss spends a foreground permit (the chart has a bar); a milestone whose destination fails becomes
        // a destination dead letter after the configured attempts.
        // alice, never seen, spends a first-sight permit: a newcomer's run found that lane missing from the chart.
        return h.get(g, "/v1/profiles/demo").compose(r -> h.get(g, "/v1/profiles/alice")).compose(r -> milestone(g, "m-console"))
          .compose(v -> h.eventually(() -> admin(g, "/admin/deliveries/m-console")
            .map(r -> r.bodyAsJsonObject().getJsonArray("destinations", new JsonArray()).stream()
              .anyMatch(d -> "dead_lettered".equals(((JsonObject) d).getString("outcome")))), 15_000));
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
        + " && document.querySelectorAll('#destination-dead-letters button.replay').length === 1", 20_000))
      .compose(v -> Future.all(List.of(
        browser.eval("document.querySelectorAll('#budget-chart rect.lane.FOREGROUND').length"),
        browser.eval("document.querySelectorAll('#budget-chart rect.lane.FIRST_SIGHT').length"),
        browser.eval("document.querySelectorAll('.legend .lane.FIRST_SIGHT').length"),
        browser.eval("document.querySelector('#breakers dd').textContent"),
        browser.eval("document.querySelector('#destination-dead-letters tbody tr td:nth-child(4)').textContent"),
        browser.eval("document.querySelector('#destination-dead-letters tbody tr td:nth-child(2)').textContent"),
        browser.eval("document.getElementById('hit-ratio').textContent"),
        browser.eval("document.querySelectorAll('#dead-letters button.replay').length"))))
      .compose(all -> {
        ctx.verify(() -> {
          assertTrue(((Number) all.resultAt(0)).intValue() >= 1, "a bar for the minute(s) with foreground use");
          assertTrue(((Number) all.resultAt(1)).intValue() >= 1, "and one for the never-seen name's first-sight permit");
          assertEquals(1, ((Number) all.resultAt(2)).intValue(), "the legend names the first-sight lane");
          assertEquals("closed", all.resultAt(3));
          assertEquals("m-console", all.resultAt(4));
          assertEquals("ops", all.resultAt(5));
          assertEquals("0.0 %", all.resultAt(6), "two reads, both misses");
          assertEquals(0, ((Number) all.resultAt(7)).intValue(), "the event itself was handled: no events dead letter");
        });
        return browser.eval("document.getElementById('delivery-id').value = 'm-console';"
          + " document.getElementById('lookup-form').requestSubmit(); true");
      })
      .compose(v -> browser.until(lookedUpDestination("outcome") + " === 'dead_lettered'", 10_000))
      .compose(v -> screenshot())
      .compose(v -> {
        receiver.status.set(200);
        return browser.eval("document.querySelector('#destination-dead-letters button.replay').click(); true");
      })
      .compose(v -> browser.until("document.querySelector('#destination-dead-letters tr[data-replayed]') !== null", 10_000))
      .compose(v -> h.eventually(() -> admin(gw.get(), "/admin/deliveries/m-console")
        .map(r -> "handled".equals(r.bodyAsJsonObject().getJsonArray("destinations").getJsonObject(0).getString("outcome"))), 15_000))
      .compose(v -> Future.all(h.redis(Request.cmd(Command.XLEN).arg(OutboundKeys.DEAD)),
        admin(gw.get(), "/admin/deliveries/m-console")))
      .compose(all -> {
        ctx.verify(() -> {
          assertEquals(0, all.<io.vertx.redis.client.Response>resultAt(0).toInteger(), "the dead letter left the stream");
          JsonObject delivery = all.<HttpResponse<Buffer>>resultAt(1).bodyAsJsonObject().getJsonArray("destinations").getJsonObject(0);
          assertEquals(1, delivery.getInteger("replays"));
          assertEquals(4, delivery.getJsonArray("attempt_log").size(), "every attempt in the history");
          assertEquals(1, receiver.deliveries(), "delivered once after the replay");
        });
        // The page refreshes itself after a replay: the list is empty, and a lookup shows the new outcome.
        return browser.until("document.getElementById('destination-dead-count').textContent === '(0)'", 10_000);
      })
      .compose(v -> browser.eval("document.getElementById('lookup-form').requestSubmit(); true"))
      .compose(v -> browser.until(lookedUpDestination("outcome") + " === 'handled' && " + lookedUpDestination("attempts")
        + " === 4", 10_000))
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
    Buffer body = Deliveries.linktreeEvent("analytics.milestone",
      new JsonObject().put("link_id", "lnk_demo_01").put("metric", "clicks").put("value", 1000).put("threshold", 1000));
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(deliveryId, body), body).mapEmpty();
  }

  private Future<HttpResponse<Buffer>> admin(Gateway g, String path) {
    return h.send(HttpMethod.GET, g, path, Deliveries.ADMIN_TOKEN);
  }
}
