package dev.biogate.webhook;

import dev.biogate.support.HarnessTest;
import dev.biogate.support.RawHttp;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the request head alone decides is answered on the head. Found with raw sockets: a delivery sent with
 * {@code Expect: 100-continue} and no signature, a signature that cannot be one, or no delivery id got
 * {@code 100 Continue}, was let send its whole body (holding its share of the body budget) and was then refused with
 * 401, 403 or 400. These refusals now come at once, without the 100, and the connection closes (the body never read).
 * A head the gateway cannot judge without the body still gets its 100.
 */
class WebhookHeadRefusalTest extends HarnessTest {

  private static final String HEX64 = "0".repeat(64);

  @Override
  protected JsonObject gatewayOverrides() {
    return new JsonObject().put("webhooks", new JsonObject()
      .put("linktree", new JsonObject().put("secrets", "whsec_head_test_secret"))
      .put("linkme", new JsonObject().put("secrets", "lm_head_test_secret"))
      .put("klaviyo", new JsonObject().put("secrets", "kl_head_test_secret")));
  }

  private static String head(String path, String headers) {
    return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n"
      + "Expect: 100-continue\r\n" + headers + "\r\n";
  }

  private static String linktree(String headers) {
    return head("/webhooks/linktree", headers);
  }

  private static final String TS = "x-linktree-timestamp: " + System.currentTimeMillis() / 1000 + "\r\n";
  private static final String ID = "x-linktree-delivery-id: head-1\r\n";

  @Test
  void headerDecidedRefusalsComeWithoutA100AndBeforeTheBody(VertxTestContext ctx) {
    List<Object[]> cases = List.of(
      new Object[]{linktree(TS + ID), 401, "missing_signature"},
      new Object[]{linktree("x-linktree-signature: " + HEX64 + "\r\n" + ID), 401, "missing_signature"},
      new Object[]{linktree("x-linktree-signature: zz\r\n" + TS + ID), 403, "invalid_signature"},
      new Object[]{linktree("x-linktree-signature: " + HEX64 + "\r\n" + TS), 400, "missing_delivery_id"},
      // Present but not an id (an attack pass: it was called missing).
      new Object[]{linktree("x-linktree-signature: " + HEX64 + "\r\n" + TS + "x-linktree-delivery-id: a b\r\n"), 400,
        "invalid_delivery_id"},
      new Object[]{head("/webhooks/linkme", ""), 401, "missing_signature"},
      new Object[]{head("/webhooks/linkme", "X-LinkMe-Signature: sha256=00\r\n"), 403, "invalid_signature"},
      new Object[]{head("/webhooks/klaviyo", "Klaviyo-Signature: " + HEX64 + "\r\nKlaviyo-Timestamp: 1\r\n"), 401,
        "missing_signature"});
    Future<Void> chain = Future.succeededFuture();
    for (Object[] c : cases) {
      chain = chain.compose(v -> raw().exchange(g.port(), (String) c[0], 5_000).map(rs -> {
        ctx.verify(() -> {
          assertEquals(1, rs.size(), "one answer, no 100 before it: " + rs + " for " + c[0]);
          assertEquals((int) c[1], rs.get(0).status(), rs.toString());
          assertEquals(c[2], new JsonObject(rs.get(0).body()).getString("error"), rs.toString());
          assertEquals("close", rs.get(0).header("connection"), "the unread body closes the connection: " + rs);
        });
        return null;
      }));
    }
    chain.onComplete(ctx.succeedingThenComplete());
  }

  /** Only {@code 100-continue} is an expectation the gateway meets (RFC 9110 10.1.1): any other is 417, on the head. */
  @Test
  void anExpectationOtherThanContinueIsRefused(VertxTestContext ctx) {
    String request = "POST /webhooks/linktree HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n"
      + "Expect: 200-ok\r\nx-linktree-signature: " + HEX64 + "\r\n" + TS + ID + "\r\n";
    raw().exchange(g.port(), request, 5_000).onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
      assertEquals(1, rs.size(), "one answer, no 100 before it: " + rs);
      assertEquals(417, rs.get(0).status(), rs.toString());
      assertEquals("expectation_failed", new JsonObject(rs.get(0).body()).getString("error"), rs.toString());
      ctx.completeNow();
    })));
  }

  /**
   * A head with several faults gets the refusal that comes first in the documented order: duplicate header, 413, 415,
   * 401, 403, missing delivery id, 417. Each case below carries its own fault and every later one.
   */
  @Test
  void aHeadWithSeveralFaultsGetsTheFirstRefusalInOrder(VertxTestContext ctx) {
    String later = "Expect: 200-ok\r\n";
    List<Object[]> cases = List.of(
      new Object[]{"Content-Type: application/json\r\nContent-Type: text/plain\r\nContent-Length: 999999999\r\n" + later,
        400, "duplicate_header"},
      new Object[]{"Content-Type: text/plain\r\nContent-Length: 999999999\r\n" + later, 413, null},
      new Object[]{"Content-Type: text/plain\r\nContent-Length: 10\r\n" + later, 415, null},
      new Object[]{"Content-Type: application/json\r\nContent-Length: 10\r\n" + later + TS, 401, "missing_signature"},
      new Object[]{"Content-Type: application/json\r\nContent-Length: 10\r\n" + later + TS + "x-linktree-signature: zz\r\n",
        403, "invalid_signature"},
      new Object[]{"Content-Type: application/json\r\nContent-Length: 10\r\n" + later + TS + "x-linktree-signature: " + HEX64 + "\r\n",
        400, "missing_delivery_id"},
      new Object[]{"Content-Type: application/json\r\nContent-Length: 10\r\n" + later + TS + ID + "x-linktree-signature: " + HEX64 + "\r\n",
        417, "expectation_failed"});
    Future<Void> chain = Future.succeededFuture();
    for (Object[] c : cases) {
      String request = "POST /webhooks/linktree HTTP/1.1\r\nHost: x\r\n" + c[0] + "\r\n";
      chain = chain.compose(v -> raw().exchange(g.port(), request, 5_000).map(rs -> {
        ctx.verify(() -> {
          assertEquals((int) c[1], rs.get(0).status(), rs + " for " + request);
          if (c[2] != null) {
            assertEquals(c[2], new JsonObject(rs.get(0).body()).getString("error"), rs + " for " + request);
          }
        });
        return null;
      }));
    }
    chain.onComplete(ctx.succeedingThenComplete());
  }

  /** A well-formed signature is judged on the body: the sender is asked for it, then refused on what it signed. */
  @Test
  void aWellFormedSignatureStillGetsA100AndIsJudgedOnTheBody(Vertx vertx, VertxTestContext ctx) {
    Buffer in = Buffer.buffer();
    Promise<Void> continued = Promise.promise();
    raw().connect(g.port()).compose(so -> {
      so.handler(b -> {
        in.appendBuffer(b);
        if (in.toString(StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 100")) {
          continued.tryComplete();
        }
      });
      so.write(linktree("x-linktree-signature: " + HEX64 + "\r\n" + TS + ID + "Connection: close\r\n"));
      return continued.future().compose(v -> {
        so.handler(null);
        Future<List<RawHttp.Response>> rest = raw().untilClosed(so, 5_000);
        so.write("{\"a\":true}");
        return rest;
      });
    }).onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
      assertTrue(in.toString(StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 100 Continue\r\n\r\n"), in.toString());
      assertEquals(1, rs.size(), rs.toString());
      assertEquals(403, rs.get(0).status(), rs.toString());
      assertEquals("invalid_signature", new JsonObject(rs.get(0).body()).getString("error"));
      ctx.completeNow();
    })));
  }
}
