package dev.biogate.http;

import dev.biogate.ops.AdminGuessLimit;
import dev.biogate.support.HarnessTest;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Behind a trusted proxy the admin lockout counts the client the proxy names, as every per-client limit does. Found
 * by an attack: the lockout counted the proxy itself, so 10 wrong tokens from anyone behind it (rotating their own
 * {@code X-Forwarded-For} parts) locked every operator out for 5 minutes, again and again.
 */
class AdminLockoutBehindProxyTest extends HarnessTest {

  private static final String TOKEN = "proxied-admin-token-0123456789";

  @Override
  protected JsonObject gatewayOverrides() {
    return new JsonObject().put("admin", new JsonObject().put("token", TOKEN))
      .put("http", new JsonObject().put("inbound", new JsonObject().put("trustedProxies", new JsonArray().add("127.0.0.0/8"))));
  }

  private Future<Integer> admin(String forwardedFor, String bearer) {
    return h.http.request(HttpMethod.GET, g.managementPort(), "127.0.0.1", "/admin/dead-letters")
      .putHeader("X-Forwarded-For", forwardedFor).putHeader("Authorization", "Bearer " + bearer).send()
      .map(HttpResponse::statusCode);
  }

  @Test
  void aGuesserBehindTheProxyIsLockedOutAndTheOperatorIsNot(VertxTestContext ctx) {
    List<Integer> statuses = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i <= AdminGuessLimit.DEFAULT_MAX_FAILURES; i++) {
      int k = i;
      chain = chain.compose(v -> admin("10.9.8." + k + ", 203.0.113.5", "guess-" + k).map(statuses::add).mapEmpty());
    }
    chain.compose(v -> admin("203.0.113.5", TOKEN)).map(statuses::add)
      .compose(v -> admin("198.51.100.7", TOKEN)).map(statuses::add)
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        int n = AdminGuessLimit.DEFAULT_MAX_FAILURES;
        assertEquals(429, statuses.get(n), "the guesser locked out: " + statuses);
        assertEquals(429, statuses.get(n + 1), "even with the right token: " + statuses);
        assertEquals(200, statuses.get(n + 2), "another client behind the same proxy is not: " + statuses);
        ctx.completeNow();
      })));
  }
}
