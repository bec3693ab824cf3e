package dev.biogate.ops;

import dev.biogate.Gateway;
import dev.biogate.support.Harness;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code /metrics} exposition, parsed as Prometheus parses it and held to the rules {@code promtool check metrics}
 * applies: HELP and TYPE for every family, every sample belongs to a declared family, counters end in
 * {@code _total}, base units only (no {@code _ms}, {@code milliseconds}, ...), no type names in metric names,
 * snake_case. Also: every profile answer, hits included, lands in the profile latency histogram.
 */
@ExtendWith(VertxExtension.class)
class MetricsExpositionTest {

  private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? (\\S+)( \\d+)?");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");
  private static final Set<String> ABBREVIATIONS = Set.of("s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d");
  private static final Set<String> NON_BASE_UNITS = Set.of("milliseconds", "microseconds", "nanoseconds", "minutes", "hours",
    "days", "weeks", "millis", "kilobytes", "megabytes", "gigabytes", "bits", "percent");
  private static final Set<String> TYPE_WORDS = Set.of("counter", "gauge", "histogram", "summary");

  /**
   * ... and every metric the shipped alert rules name is exported (the Klaviyo sink enabled, as its rules need), so no
   * rule watches a name that never exists.
   */
  @Test
  void exportsAValidExpositionWithBaseUnitsAndEveryProfileAnswerTimed(VertxTestContext ctx) {
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    Vertx vertx = Metrics.newVertx(new VertxOptions(), registry);
    Harness h = new Harness(vertx);
    int reads = 40;
    h.start()
      .compose(v -> Gateway.start(vertx, h.config(new JsonObject().put("klaviyo", new JsonObject().put("enabled", true)
        .put("apiBase", h.sandboxBase()).put("privateKey", dev.biogate.sandbox.SandboxKlaviyoOptions.DEFAULT_KEY))),
        System::currentTimeMillis, registry))
      .compose(g -> {
        io.vertx.core.Future<?> chain = h.get(g, "/v1/profiles/demo");
        for (int i = 1; i < reads; i++) {
          chain = chain.compose(r -> h.get(g, "/v1/profiles/demo"));
        }
        return chain.compose(r -> h.get(g, "/v1/profiles/nobody")).compose(r -> h.get(g, "/v1/profiles/demo/links"))
          .compose(r -> h.get(g, "/metrics")).eventually(g::close);
      })
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        vertx.close();
        assertEquals(200, r.statusCode());
        List<String> problems = lint(r.bodyAsString());
        assertTrue(problems.isEmpty(), String.join("\n", problems));
        Matcher count = Pattern.compile("biogate_profile_response_duration_seconds_count\\{status=\"200\"} (\\S+)").matcher(r.bodyAsString());
        assertTrue(count.find(), "profile latency histogram exported");
        assertEquals(reads, Double.parseDouble(count.group(1)), "every 200 answer timed, hits included");
        assertTrue(r.bodyAsString().contains("biogate_profile_response_duration_seconds_bucket{status=\"404\",le=\"+Inf\"} 1"));
        List<String> unknown = alertMetrics().stream().filter(name -> !exported(r.bodyAsString(), name)).toList();
        assertEquals(List.of(), unknown, "metrics the alert rules (conf/prometheus/biogate-alerts.yml) name but /metrics lacks");
        ctx.completeNow();
      })));
  }

  /**
   * The method label took the request's method verbatim: every new token (any token is a valid HTTP method) added a
   * histogram's worth of series, and a few hundred long ones filled the heap when {@code /metrics} was rendered.
   */
  @Test
  void methodsOutsideTheStandardOnesShareOneLabel(VertxTestContext ctx) {
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    Vertx vertx = Metrics.newVertx(new VertxOptions(), registry);
    Harness h = new Harness(vertx);
    dev.biogate.support.RawHttp raw = new dev.biogate.support.RawHttp(vertx);
    h.start()
      .compose(v -> Gateway.start(vertx, h.config(new JsonObject()), System::currentTimeMillis, registry))
      .compose(g -> {
        StringBuilder pipelined = new StringBuilder();
        for (int i = 0; i < 40; i++) {
          String path = i % 2 == 0 ? "/zz" + i : "/health/live";
          pipelined.append("M").append(Integer.toString(i * 7919, 36).toUpperCase()).append("Q ").append(path)
            .append(" HTTP/1.1\r\nHost: x\r\n\r\n");
        }
        pipelined.append("GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        return raw.exchange(g.port(), pipelined.toString(), 10_000)
          .compose(answers -> {
            ctx.verify(() -> assertEquals(41, answers.size(), answers.toString()));
            return h.get(g, "/metrics");
          })
          .eventually(g::close);
      })
      .eventually(raw::close)
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        vertx.close();
        Set<String> methods = new java.util.TreeSet<>();
        Matcher m = Pattern.compile("biogate_http_server_responses_total\\{[^}]*method=\"([^\"]*)\"").matcher(r.bodyAsString());
        while (m.find()) {
          methods.add(m.group(1));
        }
        assertTrue(methods.contains("other"), "unknown methods are counted, as other: " + methods);
        Set<String> standard = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "other");
        assertTrue(standard.containsAll(methods), "method labels: " + methods);
        ctx.completeNow();
      })));
  }

  /** Every {@code biogate_...} metric name the shipped alert rules use. */
  private static Set<String> alertMetrics() {
    try {
      String rules = java.nio.file.Files.readString(java.nio.file.Path.of("conf/prometheus/biogate-alerts.yml"));
      Set<String> names = new java.util.TreeSet<>();
      Matcher m = Pattern.compile("biogate_[a-z_]+").matcher(rules);
      while (m.find()) {
        names.add(m.group());
      }
      return names;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Whether {@code name} (a family, or one of a histogram's series) is declared in the exposition. */
  private static boolean exported(String exposition, String name) {
    String family = name.replaceAll("_(bucket|count|sum)$", "");
    return exposition.contains("# TYPE " + name + " ") || exposition.contains("# TYPE " + family + " histogram");
  }

  /** What {@code promtool check metrics} would report, one line per problem. */
  static List<String> lint(String text) {
    List<String> problems = new ArrayList<>();
    Map<String, String> types = new HashMap<>();
    Set<String> helped = new java.util.HashSet<>();
    Set<String> seenSeries = new java.util.HashSet<>();
    for (String line : text.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      if (line.startsWith("# HELP ")) {
        helped.add(line.split(" ")[2]);
        continue;
      }
      if (line.startsWith("# TYPE ")) {
        String[] parts = line.split(" ");
        if (types.put(parts[2], parts[3]) != null) {
          problems.add(parts[2] + ": family declared twice");
        }
        continue;
      }
      if (line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      if (!m.matches()) {
        problems.add("unparsable line: " + line);
        continue;
      }
      String name = m.group(1);
      String labels = m.group(3) == null ? "" : m.group(3);
      String value = m.group(4);
      if (!value.matches("[-+]?(\\d+(\\.\\d*)?([eE][-+]?\\d+)?|Inf|NaN)")) {
        problems.add(name + ": bad value " + value);
      }
      Matcher l = LABEL.matcher(labels);
      int end = 0;
      while (l.find()) {
        if (!l.group(1).equals(l.group(1).toLowerCase()) && !l.group(1).equals("le")) {
          problems.add(name + ": label " + l.group(1) + " is not snake_case");
        }
        end = l.end();
      }
      if (end != labels.length()) {
        problems.add(name + ": unparsable labels {" + labels + "}");
      }
      if (!seenSeries.add(name + "{" + labels + "}")) {
        problems.add(name + ": duplicate series {" + labels + "}");
      }
      String family = familyOf(name, types);
      if (family == null) {
        problems.add(name + ": sample without a # TYPE");
      }
    }
    for (Map.Entry<String, String> e : types.entrySet()) {
      String name = e.getKey();
      String type = e.getValue();
      if (!helped.contains(name)) {
        problems.add(name + ": no help text");
      }
      if (!name.equals(name.toLowerCase())) {
        problems.add(name + ": not snake_case");
      }
      if (name.contains(":")) {
        problems.add(name + ": reserved character ':'");
      }
      boolean total = name.endsWith("_total");
      if (type.equals("counter") && !total) {
        problems.add(name + ": counter metrics should have \"_total\" suffix");
      }
      if (!type.equals("counter") && total) {
        problems.add(name + ": non-counter metrics should not have \"_total\" suffix");
      }
      for (String token : name.split("_")) {
        if (ABBREVIATIONS.contains(token)) {
          problems.add(name + ": metric names should not contain abbreviated units (" + token + ")");
        }
        if (NON_BASE_UNITS.contains(token)) {
          problems.add(name + ": use base units (seconds, bytes) instead of " + token);
        }
        if (TYPE_WORDS.contains(token)) {
          problems.add(name + ": metric name should not include type '" + token + "'");
        }
      }
    }
    return problems;
  }

  private static String familyOf(String sample, Map<String, String> types) {
    if (types.containsKey(sample)) {
      return sample;
    }
    for (String suffix : new String[] {"_bucket", "_sum", "_count", "_total", "_created"}) {
      if (sample.endsWith(suffix)) {
        String base = sample.substring(0, sample.length() - suffix.length());
        if (types.containsKey(base)) {
          return base;
        }
      }
    }
    return null;
  }
}
