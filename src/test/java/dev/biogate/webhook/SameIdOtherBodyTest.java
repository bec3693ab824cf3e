package dev.biogate.webhook;

import dev.biogate.redis.Shards;
import dev.biogate.support.HarnessTest;
import dev.biogate.support.Topology;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * A retry under the same delivery id whose body differs (a provider that re-stamps the body) lands on another shard
 * by its content, yet is recognised by its id: the id's route sends it to the shard of the first copy. On one server
 * the ingest script reads the route itself (and answers "pinned elsewhere" without writing); on Cluster a script in
 * the id's own slot reads it first. Either way: one delivery queued, the retry a duplicate, also when both copies
 * race.
 */
class SameIdOtherBodyTest extends HarnessTest {

  @Override
  protected boolean testsStartHarness() {
    return true;
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = Topology.class, names = {"STANDALONE", "CLUSTER"})
  void aRetryWithAnotherBodyUnderTheSameIdIsADuplicate(Topology topology, VertxTestContext ctx) {
    Buffer first = body("first");
    Buffer other = onAnotherShard(first, "re-stamped");
    Buffer racedFirst = body("raced");
    Buffer racedOther = onAnotherShard(racedFirst, "raced re-stamped");
    String id = "dlv-same-" + topology;
    String raced = "dlv-raced-" + topology;
    long now = Deliveries.nowSeconds();
    h.start(topology).compose(x -> h.gateway(Deliveries.config())).compose(g ->
      h.post(g, "/webhooks/linktree", Deliveries.linktree(id, first, now), first)
        .compose(a -> {
          assertEquals(new JsonObject().put("received", true), a.bodyAsJsonObject(), a.bodyAsString());
          return h.post(g, "/webhooks/linktree", Deliveries.linktree(id, other, now), other);
        })
        .compose(b -> {
          assertEquals(new JsonObject().put("duplicate", true), b.bodyAsJsonObject(), b.bodyAsString());
          // Both copies at once: exactly one is received, whichever shard each started on.
          Future<HttpResponse<Buffer>> x = h.post(g, "/webhooks/linktree", Deliveries.linktree(raced, racedFirst, now), racedFirst);
          Future<HttpResponse<Buffer>> y = h.post(g, "/webhooks/linktree", Deliveries.linktree(raced, racedOther, now), racedOther);
          return Future.all(x, y).map(all -> {
            int received = 0;
            for (HttpResponse<Buffer> r : java.util.List.of(x.result(), y.result())) {
              assertEquals(200, r.statusCode(), r.bodyAsString());
              received += r.bodyAsJsonObject().getBoolean("received", false) ? 1 : 0;
            }
            assertEquals(1, received, "one of two racing copies received");
            return null;
          });
        })).onComplete(ctx.succeedingThenComplete());
  }

  private static Buffer body(String title) {
    return Deliveries.linktreeEvent("link.updated", new JsonObject().put("link_id", "lnk_same_id").put("title", title));
  }

  /** A body like {@code base}'s whose content digest puts it on another ingest shard. */
  private static Buffer onAnotherShard(Buffer base, String title) {
    Shards shards = new Shards(16);
    for (int i = 0; ; i++) {
      Buffer b = body(title + " " + i);
      if (Deliveries.linktreeShard(b, shards) != Deliveries.linktreeShard(base, shards)) {
        assertNotEquals(Deliveries.linktreeShard(base, shards), Deliveries.linktreeShard(b, shards));
        return b;
      }
    }
  }
}
