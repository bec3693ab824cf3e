package dev.biogate.http;

import dev.biogate.support.HarnessTest;
import dev.biogate.support.RawHttp;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Answers the connection's decoder writes itself, once a request's head is read (a body that does not arrive in time,
 * a malformed chunk, a bad trailer), carry the client's {@code X-Request-Id} like the handlers' answers do: they used
 * to carry a fresh random id, which matched nothing the client or the log knew of the request.
 */
class DecoderAnswerRequestIdTest extends HarnessTest {

  private static final String HEAD = "POST /webhooks/linktree HTTP/1.1\r\nHost: x\r\n" + RawHttp.FORGED_LINKTREE_SIGNATURE
    + "Content-Type: application/json\r\n";

  @Override
  protected JsonObject gatewayOverrides() {
    return new JsonObject().put("http", new JsonObject().put("requestBodyTimeoutMs", 400))
      .put("webhooks", new JsonObject().put("linktree", new JsonObject().put("secrets", "whsec_request_id_test")));
  }

  @Test
  void aMalformedChunkIsAnsweredWithTheClientsRequestId(VertxTestContext ctx) {
    String request = HEAD + "X-Request-Id: chunk-client-7\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n";
    raw().exchange(g.port(), request, 5_000).onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
      assertEquals(1, rs.size(), rs.toString());
      assertEquals(400, rs.get(0).status(), rs.toString());
      assertEquals("chunk-client-7", rs.get(0).header("X-Request-Id"), rs.toString());
      ctx.completeNow();
    })));
  }

  @Test
  void aBodyThatDoesNotArriveInTimeIsAnsweredWithTheClientsRequestId(VertxTestContext ctx) {
    String request = HEAD + "X-Request-Id: slow-body-client\r\nContent-Length: 100\r\n\r\n{\"type\":";
    raw().exchange(g.port(), request, 5_000).onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
      assertEquals(408, rs.get(0).status(), rs.toString());
      assertEquals("slow-body-client", rs.get(0).header("X-Request-Id"));
      ctx.completeNow();
    })));
  }

  /** Pipelined behind two answered requests, the refused one is still told apart from them by its own id. */
  @Test
  void behindPipelinedRequestsTheRefusedOneGetsItsOwnId(VertxTestContext ctx) {
    String get = "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-Id: %s\r\n\r\n";
    String request = get.formatted("first-of-three") + get.formatted("second-of-three")
      + HEAD + "X-Request-Id: third-of-three\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n";
    raw().exchange(g.port(), request, 5_000).onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
      assertEquals(3, rs.size(), rs.toString());
      assertEquals("first-of-three", rs.get(0).header("X-Request-Id"));
      assertEquals("second-of-three", rs.get(1).header("X-Request-Id"));
      assertEquals(400, rs.get(2).status(), rs.toString());
      assertEquals("third-of-three", rs.get(2).header("X-Request-Id"));
      ctx.completeNow();
    })));
  }

  /** An id the handlers would not echo (a space in it, too long) is not echoed here either: a generated one is. */
  @Test
  void anIdNotEchoedByTheHandlersIsReplacedByAGeneratedOne(VertxTestContext ctx) {
    String request = HEAD + "X-Request-Id: " + "x".repeat(300) + "\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n";
    raw().exchange(g.port(), request, 5_000).onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
      assertEquals(400, rs.get(0).status(), rs.toString());
      String id = rs.get(0).header("X-Request-Id");
      assertTrue(id.matches("[0-9a-f]{32}"), id);
      ctx.completeNow();
    })));
  }
}
