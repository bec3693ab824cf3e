package dev.biogate.webhook;

import dev.biogate.Gateway;
import dev.biogate.support.Harness;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A shuffled mix of signed deliveries as providers send them: distinct deliveries (even numbers LinkMe clicks, odd
 * numbers Linktree events) and provider retries of random ones among them.
 */
public final class DeliveryMix {

  /** One delivery as sent; a redelivery is the provider's retry of it. */
  public record Sent(String path, String deliveryId, Buffer body, long timestamp) {

    /** Linktree retries re-sign with a new timestamp under the same delivery id; LinkMe resends the same bytes. */
    public Sent redelivery() {
      return new Sent(path, deliveryId, body, timestamp + 1);
    }

    public MultiMap headers() {
      return deliveryId == null ? Deliveries.linkme(body) : Deliveries.linktree(deliveryId, body, timestamp);
    }
  }

  private DeliveryMix() {
  }

  /** A Linktree event no handler or destination wants: acknowledged and recorded as skipped. */
  public static Buffer reordered(int i) {
    return Deliveries.linktreeEvent("link.reordered", new JsonObject().put("link_id", "l" + i));
  }

  /**
   * {@code unique} distinct deliveries, LinkMe click {@code <prefix>evt-<i>} for even {@code i}, Linktree delivery
   * {@code <prefix>dlv-<i>} with body {@code linktree.apply(i)} for odd {@code i}; then {@code duplicates} retries of
   * random ones; all shuffled with {@code random}.
   */
  public static List<Sent> of(Random random, String prefix, int unique, int duplicates, IntFunction<Buffer> linktree) {
    List<Sent> distinct = new ArrayList<>();
    for (int i = 0; i < unique; i++) {
      String id = prefix + (i % 2 == 0 ? "evt-" : "dlv-") + i;
      distinct.add(i % 2 == 0
        ? new Sent("/webhooks/linkme", null, Deliveries.click(id, "link-" + id), 0)
        : new Sent("/webhooks/linktree", id, linktree.apply(i), Deliveries.nowSeconds()));
    }
    List<Sent> all = new ArrayList<>(distinct);
    for (int i = 0; i < duplicates; i++) {
      all.add(distinct.get(random.nextInt(unique)).redelivery());
    }
    Collections.shuffle(all, random);
    return all;
  }

  /**
   * Posts every delivery of {@code all} at once, each to {@code a} or {@code b} at random; each must be answered 200,
   * {@code unique} of them {@code {"received":true}} and every other one {@code {"duplicate":true}}.
   */
  public static Future<Void> sendAll(Harness h, Random random, List<Sent> all, int unique, Gateway a, Gateway b) {
    List<Future<HttpResponse<Buffer>>> answers = new ArrayList<>();
    for (Sent s : all) {
      answers.add(h.post(random.nextBoolean() ? a : b, s.path(), s.headers(), s.body()));
    }
    return Future.all(answers).map(done -> {
      int received = 0;
      int duplicate = 0;
      for (Future<HttpResponse<Buffer>> f : answers) {
        HttpResponse<Buffer> r = f.result();
        assertEquals(200, r.statusCode(), r.bodyAsString());
        received += r.bodyAsJsonObject().getBoolean("received", false) ? 1 : 0;
        duplicate += r.bodyAsJsonObject().getBoolean("duplicate", false) ? 1 : 0;
      }
      assertEquals(unique, received, "each distinct delivery accepted once");
      assertEquals(all.size() - unique, duplicate, "every retry answered as a duplicate");
      return null;
    });
  }
}
