package dev.biogate.webhook;

import dev.biogate.Gateway;
import dev.biogate.config.BiogateConfig;
import dev.biogate.config.ConfigLoader;
import dev.biogate.config.Secret;
import dev.biogate.config.SecretFiles;
import dev.biogate.support.LogCapture;
import dev.biogate.support.HarnessTest;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Secrets mounted as files ({@code NAME_FILE}) are rotated by replacing the file: no restart, old value refused. */
class SecretRotationTest extends HarnessTest {

  private static final String TOKEN_1 = "admin-token-before-rotation-1";
  private static final String TOKEN_2 = "admin-token-after-rotation-22";
  private static final String SECRET_1 = "whsec_before_rotation";
  private static final String SECRET_2 = "whsec_after_rotation";

  @TempDir
  Path dir;


  @Test
  void rotatedAdminTokenAndWebhookSecretAreAcceptedWithoutRestart(Vertx vertx, VertxTestContext ctx) throws Exception {
    Path token = Files.writeString(dir.resolve("admin-token"), TOKEN_1 + "\n");
    Path secret = Files.writeString(dir.resolve("linktree-secret"), SECRET_1);
    Path base = Files.writeString(dir.resolve("gateway.json"), h.config(new JsonObject()).source().encode());
    BiogateConfig config = ConfigLoader.load(Map.of("BIOGATE_CONFIG", base.toString(),
      "BIOGATE_ADMIN_TOKEN_FILE", token.toString(), "LINKTREE_WEBHOOK_SECRET_FILE", secret.toString()), Path.of("conf", "biogate.json"));
    Gateway[] gateway = new Gateway[1];
    Gateway.start(vertx, config).compose(g -> {
      gateway[0] = g;
      return Future.all(admin(g, TOKEN_1), webhook(g, SECRET_1, "d-before"));
    }).compose(before -> {
      assertEquals(200, before.<HttpResponse<Buffer>>resultAt(0).statusCode());
      assertEquals(200, before.<HttpResponse<Buffer>>resultAt(1).statusCode());
      return vertx.executeBlocking(() -> {
        Files.writeString(token, TOKEN_2);
        Files.writeString(secret, SECRET_2);
        return null;
      });
    // Polled on the webhook, not the admin API: every admin call with a not-yet-valid token counts as a wrong guess,
    // and enough of them lock the client out. The token file was written first, so once the new secret verifies the
    // new token is in force too.
    }).compose(v -> h.eventually(() -> webhook(gateway[0], SECRET_2, "d-probe-" + System.nanoTime()).map(r -> r.statusCode() == 200), 15_000))
      .compose(v -> admin(gateway[0], TOKEN_2).map(r -> {
        assertEquals(200, r.statusCode(), "the rotated admin token is accepted");
        return r;
      }))
      .compose(v -> Future.all(admin(gateway[0], TOKEN_1), webhook(gateway[0], SECRET_1, "d-old"), webhook(gateway[0], SECRET_2, "d-after")))
      .eventually(() -> gateway[0] == null ? Future.succeededFuture() : gateway[0].close())
      .onComplete(ctx.succeeding(after -> ctx.verify(() -> {
        assertEquals(401, after.<HttpResponse<Buffer>>resultAt(0).statusCode(), "the old admin token is refused");
        assertEquals(403, after.<HttpResponse<Buffer>>resultAt(1).statusCode(), "the old signing secret is refused");
        assertEquals(200, after.<HttpResponse<Buffer>>resultAt(2).statusCode(), "the new signing secret is accepted");
        ctx.completeNow();
      })));
  }

  @Test
  void anInvalidRotatedSecretIsLoggedAndIgnoredWhileAnotherRotatedBesideItIsTaken(Vertx vertx, VertxTestContext ctx) throws Exception {
    Path token = Files.writeString(dir.resolve("admin-token"), TOKEN_1);
    Path secret = Files.writeString(dir.resolve("linktree-secret"), SECRET_1);
    Path base = Files.writeString(dir.resolve("gateway.json"), h.config(new JsonObject()).source().encode());
    BiogateConfig config = ConfigLoader.load(Map.of("BIOGATE_CONFIG", base.toString(),
      "BIOGATE_ADMIN_TOKEN_FILE", token.toString(), "LINKTREE_WEBHOOK_SECRET_FILE", secret.toString()), Path.of("conf", "biogate.json"));
    LogCapture log = LogCapture.of(SecretFiles.class, e -> e.getLevel() + " " + e.getFormattedMessage());
    Gateway[] gateway = new Gateway[1];
    Gateway.start(vertx, config).compose(g -> {
      gateway[0] = g;
      // Each secret is taken or refused on its own. A newcomer's run found that while the admin token file held a
      // value too short to be one, a valid rotation of the webhook secret was not taken either (the whole read was
      // refused), and nothing in the log said so: the provider's deliveries signed with it got 403.
      return vertx.executeBlocking(() -> {
        Files.writeString(token, "short");
        Files.writeString(secret, SECRET_2);
        return null;
      });
    })
      .compose(v -> h.eventually(() -> Future.succeededFuture(log.lines().stream().anyMatch(l -> l.startsWith("WARN")
        && l.contains("a rotated secret is invalid, keeping the previous value") && l.contains("at least 16"))), 15_000))
      .compose(v -> h.eventually(() -> webhook(gateway[0], SECRET_2, "d-probe-" + System.nanoTime()).map(r -> r.statusCode() == 200),
        15_000))
      .compose(v -> Future.all(admin(gateway[0], TOKEN_1), admin(gateway[0], "short"), webhook(gateway[0], SECRET_1, "d-old"),
        webhook(gateway[0], SECRET_2, "d-new")))
      .eventually(() -> gateway[0] == null ? Future.succeededFuture() : gateway[0].close())
      .eventually(() -> {
        log.close();
        return Future.succeededFuture();
      })
      .onComplete(ctx.succeeding(after -> ctx.verify(() -> {
        assertEquals(200, after.<HttpResponse<Buffer>>resultAt(0).statusCode(), "the previous admin token stays in force");
        assertEquals(401, after.<HttpResponse<Buffer>>resultAt(1).statusCode(), "the invalid one is not used");
        assertEquals(403, after.<HttpResponse<Buffer>>resultAt(2).statusCode(), "the signing secret rotated beside it is taken");
        assertEquals(200, after.<HttpResponse<Buffer>>resultAt(3).statusCode(), "the new signing secret verifies");
        assertEquals(1, log.lines().stream().filter(l -> l.contains("a rotated secret is invalid")).count(),
          "the invalid value is told once while it stays: " + log.lines());
        assertTrue(log.lines().stream().anyMatch(l -> l.startsWith("INFO") && l.contains("LINKTREE_WEBHOOK_SECRET_FILE changed")),
          log.lines().toString());
        assertFalse(String.join("\n", log.lines()).contains("short"), "the refused value is not logged: " + log.lines());
        ctx.completeNow();
      })));
  }

  private Future<HttpResponse<Buffer>> admin(Gateway g, String bearer) {
    return h.send(HttpMethod.GET, g, "/admin/dead-letters", bearer);
  }

  private Future<HttpResponse<Buffer>> webhook(Gateway g, String signingSecret, String deliveryId) {
    Buffer body = new JsonObject().put("type", "profile.updated").put("data", new JsonObject().put("username", "demo")
      .put("bio", deliveryId)).put("timestamp", java.time.Instant.now().toString()).toBuffer();
    String ts = Long.toString(Deliveries.nowSeconds());
    MultiMap headers = Deliveries.json()
      .add(LinktreeVerifier.SIGNATURE_HEADER, LinktreeVerifier.sign(Secret.of(signingSecret), ts, body))
      .add(LinktreeVerifier.TIMESTAMP_HEADER, ts).add("x-linktree-delivery-id", deliveryId);
    return h.post(g, "/webhooks/linktree", headers, body);
  }
}
