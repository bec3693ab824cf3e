package dev.biogate.http;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ids {@link RequestTrace#begin} gives a request, over real HTTP: a server answers each request with the ids it
 * was given (request id, trace id, span id, the traceparent it would send upstream) and the {@code X-Request-Id} it
 * echoed. Generated ids are written out lazily; what is read back must be what a caller would have seen before.
 */
class RequestTraceTest {

  private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String HEX32 = "[0-9a-f]{32}";
  private static final String HEX16 = "[0-9a-f]{16}";

  private static Vertx vertx;
  private static HttpServer server;
  private static WebClient client;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    server = vertx.createHttpServer().requestHandler(req -> {
      RequestTrace.Ids ids = RequestTrace.begin(req);
      RequestTrace.Ids current = RequestTrace.current();
      req.response().end(new JsonObject().put("requestId", ids.requestId()).put("traceId", ids.traceId())
        .put("spanId", ids.spanId()).put("flags", ids.flags()).put("traceparent", ids.traceparent())
        .put("current", current == ids).encode());
    }).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    client = WebClient.create(vertx);
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  /** The ids the server was given, plus the echoed header as {@code echoed}. */
  private static JsonObject ids(String requestId, String traceparent) throws Exception {
    HttpRequest<Buffer> get = client.get(server.actualPort(), "127.0.0.1", "/");
    if (requestId != null) {
      get.putHeader(RequestTrace.REQUEST_ID, requestId);
    }
    if (traceparent != null) {
      get.putHeader(RequestTrace.TRACEPARENT, traceparent);
    }
    return get.send().map(r -> r.bodyAsJsonObject().put("echoed", r.getHeader(RequestTrace.REQUEST_ID)))
      .await(10, TimeUnit.SECONDS);
  }

  @Test
  void aGeneratedRequestIdIsEchoedAndIsTheTraceIdWhenTheCallerSentNoTrace() throws Exception {
    JsonObject a = ids(null, null);
    JsonObject b = ids("has a space", null);
    for (JsonObject ids : new JsonObject[] {a, b}) {
      assertTrue(ids.getString("requestId").matches(HEX32), ids.encode());
      assertEquals(ids.getString("requestId"), ids.getString("echoed"), "the header sent is the id logged");
      assertEquals(ids.getString("requestId"), ids.getString("traceId"));
      assertTrue(ids.getString("spanId").matches(HEX16), ids.encode());
      assertEquals("00-" + ids.getString("traceId") + "-" + ids.getString("spanId") + "-00", ids.getString("traceparent"));
      assertTrue(ids.getBoolean("current"), "bound to the request's context");
    }
    assertNotEquals(a.getString("requestId"), b.getString("requestId"));
    assertNotEquals(a.getString("spanId"), b.getString("spanId"));
  }

  @Test
  void theCallersTraceIsContinuedUnderThisGatewaysOwnSpan() throws Exception {
    String parent = "00-" + TRACE + "-00f067aa0ba902b7-01";
    JsonObject generated = ids(null, parent);
    JsonObject given = ids("req-abc.123", parent);
    for (JsonObject ids : new JsonObject[] {generated, given}) {
      assertEquals(TRACE, ids.getString("traceId"), ids.encode());
      assertEquals("01", ids.getString("flags"), "the sampling flag is kept");
      assertNotEquals("00f067aa0ba902b7", ids.getString("spanId"), "a span of its own");
      assertTrue(ids.getString("traceparent").matches("00-" + TRACE + "-" + HEX16 + "-01"), ids.encode());
    }
    assertTrue(generated.getString("requestId").matches(HEX32), "no usable request id sent: one is generated");
    assertNotEquals(TRACE, generated.getString("requestId"), "the generated request id is not the caller's trace");
    assertEquals("req-abc.123", given.getString("requestId"));
    assertEquals("req-abc.123", given.getString("echoed"));
  }

  @Test
  void aClientsIdIsTheTraceIdOnlyWhenItHasATraceIdsShape() throws Exception {
    String hexId = "0af7651916cd43dd8448eb211c80319c";
    JsonObject shaped = ids(hexId, null);
    assertEquals(hexId, shaped.getString("requestId"));
    assertEquals(hexId, shaped.getString("traceId"));
    JsonObject other = ids("order-42", null);
    assertEquals("order-42", other.getString("requestId"));
    assertEquals("order-42", other.getString("echoed"));
    assertTrue(other.getString("traceId").matches(HEX32), other.encode());
    JsonObject badParent = ids("order-43", "00-" + "0".repeat(32) + "-00f067aa0ba902b7-01");
    assertTrue(badParent.getString("traceId").matches(HEX32) && !badParent.getString("traceId").equals("0".repeat(32)),
      "an all-zero trace id is not continued: " + badParent.encode());
    assertEquals("00", badParent.getString("flags"));
  }
}
