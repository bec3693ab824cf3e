package dev.biogate.profile;

import dev.biogate.Gateway;
import dev.biogate.support.HarnessTest;
import dev.biogate.support.ManualClock;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A {@code profile.updated} webhook that lands while a fetch of the same profile is in flight must win: once the
 * fetch has completed, every instance serves the new bio, and keeps doing so for the whole fresh TTL. The upstream
 * is slowed so the fetch is still in flight (its profile fields already read, its links page not yet answered)
 * when the upstream changes and the webhook arrives.
 * <p>
 * Each case runs {@code -Dbiogate.patchRace.repetitions} times (default 3) and reports what both instances served.
 */
class PatchRaceTest extends HarnessTest {

  private static final int REPETITIONS = Integer.getInteger("biogate.patchRace.repetitions", 3);
  private static final long FRESH_MS = 10_000;
  // Budgets far above what the repetitions spend: the race, not the budget, is under test.
  private static final int BUDGET = 100_000;
  private static final JsonObject CONFIG = Deliveries.config().put("cache", new JsonObject().put("freshTtlMs", FRESH_MS)
    .put("staleWhileRevalidateMs", 60_000).put("staleIfErrorMs", 600_000))
    .put("linktree", new JsonObject().put("rateLimitPerMin", BUDGET));
  private static final JsonObject SLOW = new JsonObject().put("mode", "slow").put("latency_ms", 300);
  private static final JsonObject OK = new JsonObject().put("mode", "ok");

  private final ManualClock clock = new ManualClock();

  @Override
  protected JsonObject sandboxOptions() {
    return new JsonObject().put("rateLimitPerMin", BUDGET);
  }

  /** Case A: nothing cached, a first read's fetch in flight, then the webhook. */
  @Test
  void aWebhookDuringAFirstFetchLeavesTheNewBioOnEveryInstance(VertxTestContext ctx) {
    twoGateways().compose(g -> repeat(i -> {
      String user = "race-a-" + i;
      return h.putProfile(user, Profiles.withBio("old bio"))
        .compose(v -> h.fault(SLOW))
        .compose(v -> {
          Future<HttpResponse<Buffer>> firstRead = h.get(g[0], "/v1/profiles/" + user);
          return raceWebhook(g, user, "a-" + i, 1, true).compose(v2 -> firstRead);
        })
        .compose(first -> settleAndRead(g, user));
    })).onComplete(ctx.succeeding(outcomes -> {
      ctx.verify(() -> report("A", outcomes));
      ctx.completeNow();
    }));
  }

  /**
   * Case A, read again: a read on A made after the webhook was handled joins the fetch still in flight, and must get
   * the new bio the webhook published, not the older copy the fetch brings back (a drill: the joined read was answered
   * the old bio, 1.2 s later, while B served the new one).
   */
  @Test
  void aReadThatJoinsTheFetchAfterTheWebhookWasHandledGetsTheNewBio(VertxTestContext ctx) {
    // Once: the joined read got the old bio in every run before the fix (3 of 3).
    twoGateways().compose(g -> once(i -> {
      String user = "race-join-" + i;
      return h.putProfile(user, Profiles.withBio("old bio"))
        .compose(v -> h.fault(new JsonObject().put("mode", "slow").put("latency_ms", 1_500)))
        .compose(v -> {
          Future<HttpResponse<Buffer>> firstRead = h.get(g[0], "/v1/profiles/" + user);
          return raceWebhook(g, user, "join-" + i, 1, true)
            .compose(v2 -> {
              if (firstRead.isComplete()) {
                return Future.failedFuture("the first fetch ended before the webhook was handled: the race was not run");
              }
              return Profiles.bio(h, g[0], user);
            })
            .compose(joined -> firstRead.map(first -> "joined:" + joined));
        })
        .compose(joined -> h.fault(OK).map(joined));
    })).onComplete(ctx.succeeding(outcomes -> {
      ctx.verify(() -> report("A-joined", outcomes));
      ctx.completeNow();
    }));
  }

  /** Case B: a stale copy on both instances, a background revalidation in flight, then the webhook. */
  @Test
  void aWebhookDuringABackgroundRevalidationLeavesTheNewBioOnEveryInstance(VertxTestContext ctx) {
    revalidationRace("B", true, ctx);
  }

  /** Case B with a payload too partial to apply: the purge's tombstone beats the revalidation; the next read fetches. */
  @Test
  void aPartialWebhookDuringABackgroundRevalidationMakesTheNextReadFetchTheNewBio(VertxTestContext ctx) {
    revalidationRace("B-partial", false, ctx);
  }

  private void revalidationRace(String race, boolean complete, VertxTestContext ctx) {
    twoGateways().compose(g -> repeat(i -> {
      String user = "race-" + race.toLowerCase() + "-" + i;
      return h.putProfile(user, Profiles.withBio("old bio"))
        .compose(v -> Profiles.bio(h, g[0], user)).compose(v -> Profiles.bio(h, g[1], user))
        .compose(v -> {
          clock.advance(FRESH_MS + 1_000);
          return h.fault(SLOW);
        })
        .compose(v -> h.get(g[0], "/v1/profiles/" + user)).compose(stale -> {
          assertEquals("STALE", stale.getHeader("X-Cache"), "the stale copy is served while it is revalidated");
          return raceWebhook(g, user, race + "-" + i, 2, complete);
        })
        .compose(v -> settleAndRead(g, user));
    })).onComplete(ctx.succeeding(outcomes -> {
      ctx.verify(() -> report(race, outcomes));
      ctx.completeNow();
    }));
  }

  private Future<Gateway[]> twoGateways() {
    return h.gateway(CONFIG, clock).compose(a -> h.gateway(CONFIG, clock).map(b -> new Gateway[] {a, b}));
  }

  /**
   * Waits until the in-flight fetch has read the profile fields (its {@code linksCall}-th links page is pending),
   * then changes the upstream and delivers the webhook (complete, or only the bio) through instance B.
   */
  private Future<Void> raceWebhook(Gateway[] g, String user, String id, int linksCall, boolean complete) {
    return h.eventually(() -> h.upstreamCalls("/profiles/" + user + "/links").map(n -> n >= linksCall), 5_000)
      .compose(v -> h.putProfile(user, Profiles.withBio("new bio")))
      .compose(v -> complete ? Profiles.announceBio(h, g[1], "race-" + id, user, "new bio")
        : Profiles.announce(h, g[1], "race-" + id, new JsonObject().put("username", user).put("bio", "new bio")));
  }

  /** After the fetch completed: what A and B serve now, and again just before the fresh TTL ends. */
  private Future<String> settleAndRead(Gateway[] g, String user) {
    List<String> served = new ArrayList<>();
    return Profiles.settled(h, g[0], user).compose(v -> h.fault(OK))
      .compose(v -> readBoth(g, user, served)).compose(v -> readBoth(g, user, served))
      .compose(v -> {
        clock.advance(FRESH_MS - 1_000);
        return readBoth(g, user, served);
      })
      .map(v -> String.join(",", served));
  }

  private Future<Void> readBoth(Gateway[] g, String user, List<String> served) {
    return Profiles.bio(h, g[0], user).compose(a -> Profiles.bio(h, g[1], user).map(b -> {
      served.add("A:" + a);
      served.add("B:" + b);
      return null;
    }));
  }

  private static Future<List<String>> once(IntFunction<Future<String>> run) {
    return run.apply(0).map(List::of);
  }

  private Future<List<String>> repeat(IntFunction<Future<String>> run) {
    Future<List<String>> chain = Future.succeededFuture(new ArrayList<>());
    for (int i = 0; i < REPETITIONS; i++) {
      int n = i;
      chain = chain.compose(list -> run.apply(n).map(outcome -> {
        list.add(outcome);
        return list;
      }));
    }
    return chain;
  }

  private static void report(String race, List<String> outcomes) {
    long won = outcomes.stream().filter(o -> !o.contains("old bio")).count();
    System.out.printf("patch race case %s: new bio on both instances in %d of %d runs; served: %s%n", race, won,
      outcomes.size(), outcomes);
    assertEquals(outcomes.size(), won, "every read after the fetch completed served the new bio: " + outcomes);
  }
}
