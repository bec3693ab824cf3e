package dev.biogate.http;

import dev.biogate.support.HarnessTest;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EdgeSecurityTest extends HarnessTest {

  private static final JsonObject CORS = new JsonObject().put("http", new JsonObject()
    .put("corsOrigins", new JsonArray().add("https://bio.example.com")));

  @Test
  void everyResponseCarriesSecurityHeaders(VertxTestContext ctx) {
    h.gateway(new JsonObject()).compose(g -> Future.all(h.get(g, "/v1/profiles/demo"), h.get(g, "/nope"), h.get(g, "/v1/profiles/%00")))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        for (int i = 0; i < 3; i++) {
          HttpResponse<Buffer> r = all.resultAt(i);
          assertEquals("nosniff", r.getHeader("X-Content-Type-Options"));
          assertEquals("DENY", r.getHeader("X-Frame-Options"));
          assertEquals("no-referrer", r.getHeader("Referrer-Policy"));
          assertTrue(r.getHeader("Content-Security-Policy").contains("default-src 'none'"));
        }
        ctx.completeNow();
      })));
  }

  /**
   * Every answer carries a {@code Date} (RFC 9110 6.6.1; caches read {@code Age} against it), hits, redirects, errors,
   * the management port and answers written below the HTTP encoder included. None carried one.
   */
  @Test
  void everyAnswerCarriesTheDate(VertxTestContext ctx) {
    long before = System.currentTimeMillis() / 1000 * 1000;
    h.gateway(new JsonObject()).compose(g -> h.get(g, "/v1/profiles/demo").compose(miss -> Future.all(List.of(
        h.get(g, "/v1/profiles/demo"), h.get(g, "/nope"), raw().exchange(g.port(), "GET /r/demo/lnk_demo_01 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5_000).map(rs -> rs.get(0)), h.get(g, "/metrics"),
        raw().exchange(g.port(), "GET /v1/profiles/demo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 5_000)
          .map(rs -> rs.get(0))))))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        long after = System.currentTimeMillis() + 1000;
        for (int i = 0; i < 5; i++) {
          Object r = all.resultAt(i);
          String date = r instanceof HttpResponse ? ((HttpResponse<?>) r).getHeader("Date") : ((dev.biogate.support.RawHttp.Response) r).header("Date");
          assertTrue(date != null, i + ": no Date");
          long at = java.time.ZonedDateTime.parse(date, java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
          assertTrue(at >= before && at <= after, i + ": " + date);
        }
        ctx.completeNow();
      })));
  }

  @Test
  void corsAllowsOnlyConfiguredOriginsNeverWildcard(VertxTestContext ctx) {
    h.gateway(CORS).compose(g -> Future.all(
        h.http.get(g.port(), "127.0.0.1", "/v1/profiles/demo").putHeader("Origin", "https://bio.example.com").send(),
        h.http.get(g.port(), "127.0.0.1", "/v1/profiles/demo").putHeader("Origin", "https://evil.example").send(),
        h.http.request(HttpMethod.OPTIONS, g.port(), "127.0.0.1", "/v1/profiles/demo").putHeader("Origin", "https://bio.example.com")
          .putHeader("Access-Control-Request-Method", "GET").send(),
        h.http.request(HttpMethod.OPTIONS, g.port(), "127.0.0.1", "/v1/profiles/demo").putHeader("Origin", "https://evil.example")
          .putHeader("Access-Control-Request-Method", "GET").send()))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        HttpResponse<Buffer> allowed = all.resultAt(0);
        HttpResponse<Buffer> other = all.resultAt(1);
        HttpResponse<Buffer> preflight = all.resultAt(2);
        HttpResponse<Buffer> badPreflight = all.resultAt(3);
        assertEquals("https://bio.example.com", allowed.getHeader("Access-Control-Allow-Origin"));
        // Exposed: what the gateway sends and a page may read; nothing it never sends.
        java.util.Set<String> exposed = new java.util.TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        for (String name : allowed.getHeader("Access-Control-Expose-Headers").split(",")) {
          exposed.add(name.trim());
        }
        assertTrue(exposed.containsAll(java.util.List.of("ETag", "X-Cache", "Cache-Status", "Retry-After", "RateLimit",
          "RateLimit-Policy", "X-Request-Id")), exposed.toString());
        assertTrue(exposed.stream().noneMatch(n -> n.startsWith("RateLimit-") && !n.equalsIgnoreCase("RateLimit-Policy")),
          "no header the gateway never sends: " + exposed);
        assertTrue(allowed.headers().getAll("Vary").contains("Origin"));
        assertNull(other.getHeader("Access-Control-Allow-Origin"));
        assertEquals(204, preflight.statusCode());
        assertTrue(preflight.getHeader("Access-Control-Allow-Methods").contains("GET"));
        assertEquals(403, badPreflight.statusCode());
        assertEquals("origin_not_allowed", badPreflight.bodyAsJsonObject().getString("error"));
        ctx.completeNow();
      })));
  }

  /**
   * A preflight for a method the API does not serve to pages is refused: {@code DELETE} on a profile or {@code POST} on
   * a webhook from an allowed origin were answered {@code 204} with the allowed methods, which did not name them.
   */
  @Test
  void aPreflightForAMethodPagesCannotUseIsRefused(VertxTestContext ctx) {
    // Path, requested method(s), status: a preflight names one method (of GET then DELETE only the first was checked).
    List<Object[]> cases = List.of(
      new Object[]{"/v1/profiles/demo", List.of("DELETE"), 403},
      new Object[]{"/webhooks/linktree", List.of("POST"), 403},
      new Object[]{"/v1/profiles/demo", List.of(""), 403},
      new Object[]{"/v1/profiles/demo", List.of("GET", "DELETE"), 403},
      new Object[]{"/r/demo/lnk_1", List.of("HEAD"), 204},
      new Object[]{"/v1/profiles/demo", List.of("GET"), 204});
    h.gateway(CORS).compose(g -> Future.all(cases.stream().map(c -> h.http.request(HttpMethod.OPTIONS, g.port(), "127.0.0.1", (String) c[0])
        .putHeader("Origin", "https://bio.example.com").putHeader("Access-Control-Request-Method", (List<String>) c[1]).send())
        .toList()))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        for (int i = 0; i < cases.size(); i++) {
          HttpResponse<Buffer> r = all.resultAt(i);
          String what = cases.get(i)[0] + " " + cases.get(i)[1] + ": " + r.bodyAsString();
          assertEquals((int) cases.get(i)[2], r.statusCode(), what);
          if (r.statusCode() == 403) {
            assertEquals("method_not_allowed", r.bodyAsJsonObject().getString("error"), what);
            assertNull(r.getHeader("Access-Control-Allow-Methods"), "nothing allowed: " + what);
          }
        }
        ctx.completeNow();
      })));
  }

  @Test
  void unsafeLinksAndMarkupNeverReachAClient(VertxTestContext ctx) {
    JsonObject hostile = new JsonObject().put("username", "mallory").put("bio", "<script>alert(1)</script>Hi\u0007 there")
      .put("avatar_url", "javascript:alert(1)").put("theme", "dark")
      .put("links", new JsonArray()
        .add(link("l1", "<b>Shop</b>", "https://shop.example.com", 0))
        .add(link("l2", "Click", "javascript:alert(document.cookie)", 1))
        .add(link("l3", "Data", "data:text/html;base64,PHNjcmlwdD4=", 2))
        .add(link("l4", "Tabbed", "java\tscript:alert(1)", 3))
        .add(link("l5", "Mail", "mailto:hi@example.com", 4))
        .add(link("l6", "Phone", "tel:+15551234567", 5))
        .add(link("l7", "Upper", "JAVASCRIPT:alert(1)", 6)));
    h.putProfile("mallory", hostile)
      .compose(v -> h.gateway(new JsonObject()))
      .compose(g -> h.get(g, "/v1/profiles/mallory"))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertEquals(200, r.statusCode());
        String body = r.bodyAsString();
        assertFalse(body.toLowerCase().contains("javascript"), body);
        assertFalse(body.contains("data:text"), body);
        assertFalse(body.contains("<"), body);
        JsonObject p = r.bodyAsJsonObject();
        assertEquals("alert(1)Hi there", p.getString("bio"));
        assertNull(p.getString("avatar_url"));
        JsonArray links = p.getJsonArray("links");
        assertEquals(3, links.size(), "only https, mailto and tel links survive: " + links);
        assertEquals("Shop", links.getJsonObject(0).getString("title"));
        assertEquals("mailto:hi@example.com", links.getJsonObject(1).getString("url"));
        assertEquals("tel:+15551234567", links.getJsonObject(2).getString("url"));
        ctx.completeNow();
      })));
  }

  private static JsonObject link(String id, String title, String url, int position) {
    return new JsonObject().put("id", id).put("title", title).put("url", url).put("position", position);
  }
}
