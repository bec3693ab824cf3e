package dev.biogate.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.biogate.support.HarnessTest;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A path is served as it is written in the API table, never with a slash added: an attack pass found
 * {@code /v1/profiles/demo/links/} answered 200 (the router's tolerance) where {@code /v1/profiles/demo/} and
 * {@code /r/demo/lnk_demo_01/} are 404, so one resource had two URLs for the caches in front.
 */
class TrailingSlashTest extends HarnessTest {

  private static final List<String> SLASHED = List.of("/v1/profiles/demo/", "/v1/profiles/demo/links/",
    "/r/demo/lnk_demo_01/", "/v1/analytics/demo/clicks/", "/health/", "/health/live/", "/health/ready/", "/metrics/");

  @Test
  void aPathWithATrailingSlashIsNotFound(VertxTestContext ctx) {
    h.gateway(new JsonObject()).compose(g -> {
      List<Future<String>> answers = new ArrayList<>();
      for (String path : SLASHED) {
        answers.add(get(g, path).map(r -> path + " " + r.statusCode() + " " + error(r)));
        String plain = path.substring(0, path.length() - 1);
        answers.add(get(g, plain).map(r -> plain + " " + (r.statusCode() == 404 ? "404" : "served")));
      }
      return Future.all(answers).map(all -> all.<String>list());
    }).onComplete(ctx.succeeding(seen -> ctx.verify(() -> {
      List<String> expected = new ArrayList<>();
      for (String path : SLASHED) {
        expected.add(path + " 404 not_found");
        expected.add(path.substring(0, path.length() - 1) + " served");
      }
      assertEquals(expected, seen);
      ctx.completeNow();
    })));
  }

  /**
   * Nor with dot segments or empty segments: a raw-socket pass found {@code /health/./live} and
   * {@code /v1/profiles/x/../demo/links} served (the router normalises them) where the profile and redirect paths
   * refuse them. The operator paths stay unreachable from the client port either way. (A percent-encoded letter is
   * the same URI as the letter, RFC 3986 §6.2.2.2, and is served as it: {@code ProfileReadPathTest}.)
   */
  @Test
  void aPathWithDotSegmentsOrEmptySegmentsIsNotFound(VertxTestContext ctx) {
    List<String> alternates = List.of("/health/./live", "/health/x/../live", "/v1/profiles/demo/./links",
      "/v1/profiles/x/../demo/links", "/v1/profiles/demo/%2e/links", "/health/%2e%2e/metrics", "//health/live",
      "/health//live", "/health/live/.");
    h.gateway(new JsonObject()).compose(g -> {
      List<Future<String>> answers = new ArrayList<>();
      for (String path : alternates) {
        answers.add(h.http.get(g.port(), "127.0.0.1", path).send().map(r -> path + " " + r.statusCode() + " " + error(r)));
      }
      answers.add(h.http.get(g.managementPort(), "127.0.0.1", "/health/./live").send()
        .map(r -> "management /health/./live " + r.statusCode() + " " + error(r)));
      return Future.all(answers).map(all -> all.<String>list());
    }).onComplete(ctx.succeeding(seen -> ctx.verify(() -> {
      List<String> expected = new ArrayList<>();
      alternates.forEach(path -> expected.add(path + " 404 not_found"));
      expected.add("management /health/./live 404 not_found");
      assertEquals(expected, seen);
      ctx.completeNow();
    })));
  }

  private Future<HttpResponse<Buffer>> get(dev.biogate.Gateway g, String path) {
    return h.http.get(dev.biogate.support.Harness.portFor(g, path), "127.0.0.1", path).followRedirects(false).send();
  }

  private static String error(HttpResponse<Buffer> r) {
    try {
      return r.bodyAsJsonObject().getString("error");
    } catch (RuntimeException e) {
      return "(not JSON)";
    }
  }
}
