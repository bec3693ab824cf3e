package dev.biogate.events;

import dev.biogate.Gateway;
import dev.biogate.events.ProfileEventHandler.Change;
import dev.biogate.profile.CachedProfile;
import dev.biogate.profile.ProfileStore;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.HarnessTest;
import dev.biogate.support.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Changes to one profile that queue behind one another on an instance are written together, not one Redis
 * read-and-write each. Found in a Cluster drill on a loaded host: 60 {@code link.updated} events a second for one hot
 * profile, each applied alone after the one before it (about four Redis round trips each), fell further and further
 * behind; 2,266 of them reached the 15-s handler deadline, spent an attempt, and were then skipped as older than a
 * change applied meanwhile.
 * <p>
 * Forty changes to two of bob's links (and one to his bio) are handed to the handler at once, as the events engines
 * do when a backlog for him is read: every one is applied, the newest of each part stays, and the shared copy is
 * written a few times, not forty (counted on the invalidation channel, where every accepted write is announced).
 */
class HotProfileChangesTest extends HarnessTest {

  private static final int CHANGES = 40;

  @Test
  void changesQueuedForOneProfileAreWrittenTogether(VertxTestContext ctx) {
    long now = System.currentTimeMillis();
    AtomicInteger writes = new AtomicInteger();
    Promise<Void> marker = Promise.promise();
    String channel = RedisKeys.invalidateChannel(0);
    Redis subscriber = Redis.createClient(h.vertx, TestRedis.url());
    h.gateway(new JsonObject()).compose(a -> h.get(a, "/v1/profiles/bob").compose(warm -> subscriber.connect())
      .compose(conn -> {
        conn.handler(message -> {
          String text = payload(message);
          if (text == null) {
            return;
          }
          if (text.equals("end-of-test")) {
            marker.tryComplete();
          } else if (text.split(" ").length == 3 && text.split(" ")[1].equals("bob")) {
            writes.incrementAndGet();
          }
        });
        return conn.send(Request.cmd(Command.SUBSCRIBE).arg(channel)).map(conn);
      })
      .compose(conn -> {
        ProfileEventHandler handler = new ProfileEventHandler(a.profiles(), a.redis());
        List<Future<Change>> changes = new ArrayList<>();
        for (int i = 1; i <= CHANGES; i++) {
          String link = i % 2 == 1 ? "lnk_bob_01" : "lnk_bob_02";
          JsonObject data = new JsonObject().put("username", "bob").put("link_id", link).put("title", "T" + i)
            .put("url", "https://example.com/" + i).put("position", i % 2 == 1 ? 0 : 1).put("thumbnail_url", null);
          changes.add(handler.linkChanged("link.updated", data, now - 100_000 + i * 10L));
          if (i == CHANGES / 2) {
            changes.add(handler.profileUpdated(new JsonObject().put("username", "bob").put("bio", "hot bio")
              .put("avatar_url", "https://cdn.example.net/b.png").put("theme", "dusk"), now - 100_000 + i * 10L));
          }
        }
        return Future.all(changes).compose(all -> {
          for (int i = 0; i < all.size(); i++) {
            assertEquals(Change.PATCHED, all.resultAt(i), "change " + i + " is applied");
          }
          return a.redis().send(Request.cmd(Command.PUBLISH).arg(channel).arg("end-of-test"));
        }).compose(published -> marker.future()).compose(v -> shared(a)).map(copy -> {
          JsonObject doc = copy.decode();
          assertEquals("hot bio", doc.getString("bio"));
          JsonArray links = doc.getJsonArray("links");
          assertEquals("T39", title(links, "lnk_bob_01"), "the newest change to the first link stays");
          assertEquals("T40", title(links, "lnk_bob_02"), "the newest change to the second link stays");
          assertTrue(writes.get() <= 4, "written " + writes.get() + " times for " + (CHANGES + 1) + " changes");
          conn.close();
          return null;
        });
      })).onComplete(ctx.succeedingThenComplete());
  }

  /** The text of a pub/sub message, or {@code null} for anything else (the subscription's confirmation). */
  private static String payload(Response message) {
    return message.size() == 3 && "message".equals(message.get(0).toString()) ? message.get(2).toString() : null;
  }

  private static String title(JsonArray links, String id) {
    for (int i = 0; i < links.size(); i++) {
      if (id.equals(links.getJsonObject(i).getString("id"))) {
        return links.getJsonObject(i).getString("title");
      }
    }
    return null;
  }

  private static Future<CachedProfile> shared(Gateway g) {
    return new ProfileStore(g.redis(), g.profiles().freshness(), RedisKeys.invalidateChannel(0)).get("bob").map(ProfileStore.Shared::copy);
  }
}
