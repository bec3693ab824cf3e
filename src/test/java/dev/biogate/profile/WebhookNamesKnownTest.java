package dev.biogate.profile;

import dev.biogate.redis.RedisKeys;
import dev.biogate.support.HarnessTest;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A verified webhook naming a creator marks the name known, as the README says, also when its payload is incomplete
 * (a {@code profile.updated} carrying only the username): only complete ones did, so reads of such names took the
 * first-sight lane, and a Cluster drill naming 1,500 creators that way saw 584 of 603 misses answered 503.
 */
class WebhookNamesKnownTest extends HarnessTest {

  @Override
  protected JsonObject gatewayOverrides() {
    return Deliveries.config();
  }

  @Test
  void anIncompleteProfileUpdateMarksTheNameKnown(VertxTestContext ctx) {
    String name = "named-" + System.nanoTime();
    Buffer body = Deliveries.linktreeEvent("profile.updated", new JsonObject().put("username", name));
    h.post(g, "/webhooks/linktree", Deliveries.linktree("known-" + name, body), body)
      .compose(r -> {
        assertEquals(200, r.statusCode(), r.bodyAsString());
        return h.eventually(() -> h.redis(Request.cmd(Command.EXISTS).arg(RedisKeys.knownName(name)))
          .map(e -> e.toInteger() == 1), 10_000);
      })
      .onComplete(ctx.succeedingThenComplete());
  }
}
