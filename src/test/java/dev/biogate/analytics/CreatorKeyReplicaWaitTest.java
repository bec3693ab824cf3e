package dev.biogate.analytics;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.ReplicatedHarnessTest;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Issuing or revoking a creator's analytics key is answered 2xx only once a replica holds the change. Without
 * {@code WAIT}, a failover right after could lose an issued key (the creator's integration then refused) or, worse,
 * a revocation (the revoked key working again).
 */
class CreatorKeyReplicaWaitTest extends ReplicatedHarnessTest {

  @Test
  void issuingAndRevokingWaitForAReplica(Vertx vertx, VertxTestContext ctx) {
    AtomicReference<String> keyId = new AtomicReference<>();
    startReplicated()
      .compose(v -> h.gateway(Deliveries.config().put("webhooks", Deliveries.webhooks().put("replicaWaitMs", 500))))
      .compose(g -> call(g, HttpMethod.POST, "/admin/creators/demo/keys").compose(r -> {
        assertEquals(201, r.statusCode(), r.bodyAsString());
        keyId.set(r.bodyAsJsonObject().getString("key_id"));
        return redis.replica().send(Request.cmd(Command.HEXISTS).arg(RedisKeys.creatorKeys("demo")).arg(keyId.get()));
      }).compose(held -> {
        assertEquals(1, held.toInteger(), "the replica holds the key when it is answered 201");
        return redis.stallReplica(vertx, 3).compose(stalled -> Future.all(
          call(g, HttpMethod.POST, "/admin/creators/demo/keys"),
          call(g, HttpMethod.DELETE, "/admin/creators/demo/keys/" + keyId.get())));
      }).compose(both -> {
        for (int i = 0; i < 2; i++) {
          HttpResponse<Buffer> r = both.resultAt(i);
          assertEquals(503, r.statusCode(), r.bodyAsString());
          assertEquals("not_replicated", r.bodyAsJsonObject().getString("error"), r.bodyAsString());
        }
        // The revocation is retried once the replica is back: done (or found done), and the replica holds it.
        return h.eventually(() -> call(g, HttpMethod.DELETE, "/admin/creators/demo/keys/" + keyId.get())
          .map(r -> r.statusCode() == 200 || r.statusCode() == 404), 10_000);
      }).compose(v -> redis.replica().send(Request.cmd(Command.HEXISTS).arg(RedisKeys.creatorKeys("demo")).arg(keyId.get())))
        .map(held -> {
          assertEquals(0, held.toInteger(), "the replica no longer holds the revoked key");
          return null;
        }))
      .onComplete(ctx.succeedingThenComplete());
  }

  private Future<HttpResponse<Buffer>> call(Gateway g, HttpMethod method, String path) {
    return h.send(method, g, path, Deliveries.ADMIN_TOKEN);
  }
}
