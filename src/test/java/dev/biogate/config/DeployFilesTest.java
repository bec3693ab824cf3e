package dev.biogate.config;

import dev.biogate.support.Harness;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code deploy/} and {@code conf/examples/} speak the gateway's language: every environment variable they set is
 * one the config loader reads (and loading with exactly those variables yields the intended config), every probe
 * path answers on a running gateway, and termination waits longer than the drain.
 */
@ExtendWith(VertxExtension.class)
class DeployFilesTest {

  private static final Path COMPOSE = Path.of("deploy", "docker-compose.yml");
  private static final Path DEPLOYMENT = Path.of("deploy", "k8s", "deployment.yaml");
  private static final Path CONFIG_MAP = Path.of("deploy", "k8s", "configmap.yaml");
  private static final Path BASE = Path.of("conf", "biogate.json");

  /** {@code - name: X} followed by {@code value: Y} in a container's env list. */
  private static final Pattern K8S_ENV = Pattern.compile("-\\s+name:\\s+([A-Z][A-Z0-9_]*)\\s*\\n\\s+value:\\s+(\\S+)");
  /** {@code X: Y} lines of a compose {@code environment:} mapping (only variables are upper case). */
  private static final Pattern COMPOSE_ENV = Pattern.compile("(?m)^\\s+([A-Z][A-Z0-9_]*):\\s+(\\S+)\\s*$");
  private static final Pattern PROBE_PATH = Pattern.compile("(?m)^\\s+path:\\s+(/\\S*)\\s*$");

  private static Map<String, String> variables(Path file, Pattern p) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    Matcher m = p.matcher(Files.readString(file));
    while (m.find()) {
      out.put(m.group(1), m.group(2));
    }
    assertFalse(out.isEmpty(), "found environment variables in " + file);
    return out;
  }

  private static boolean known(String name) {
    if (name.equals("BIOGATE_CONFIG") || ConfigLoader.ENV.containsKey(name)) {
      return true;
    }
    return name.endsWith("_FILE")
      && Arrays.asList(ConfigLoader.FILE_FORMS).contains(name.substring(0, name.length() - "_FILE".length()));
  }

  /**
   * The variables as the container would see them: {@code *_FILE} paths replaced by local files holding a
   * placeholder, {@code BIOGATE_CONFIG} by the local copy of the file the deployment mounts there.
   */
  private static Map<String, String> localised(Map<String, String> vars, Path config, Path dir) throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : vars.entrySet()) {
      if (e.getKey().endsWith("_FILE")) {
        Path f = dir.resolve(e.getKey().toLowerCase());
        Files.writeString(f, "placeholder-" + e.getKey().toLowerCase() + "-0123456789");
        env.put(e.getKey(), f.toString());
      } else if (e.getKey().equals("BIOGATE_CONFIG")) {
        env.put(e.getKey(), config.toString());
      } else {
        env.put(e.getKey(), e.getValue());
      }
    }
    return env;
  }

  private static void assertLoadsAsIntended(Map<String, String> vars, Path config, Path dir) throws IOException {
    List<String> unknown = new ArrayList<>();
    vars.keySet().stream().filter(n -> !known(n)).forEach(unknown::add);
    assertEquals(List.of(), unknown, "variables the gateway does not read");
    BiogateConfig c = ConfigLoader.load(localised(vars, config, dir), BASE);
    assertEquals(RedisConfig.Type.CLUSTER, c.redis().type());
    assertEquals("0.0.0.0", c.http().host(), "listens beyond loopback inside a container");
    if (vars.containsKey("LINKTREE_API_TOKEN_FILE")) {
      assertEquals("placeholder-linktree_api_token_file-0123456789", c.linktree().token().reveal());
    }
    if (vars.containsKey("BIOGATE_ADMIN_TOKEN_FILE")) {
      assertEquals("placeholder-biogate_admin_token_file-0123456789", c.admin().token().reveal());
    }
    if (vars.containsKey("REDIS_PASSWORD_FILE")) {
      assertEquals("placeholder-redis_password_file-0123456789", c.redis().password().reveal());
    }
  }

  @Test
  void composeSetsOnlyVariablesTheGatewayReads(@TempDir Path dir) throws IOException {
    Map<String, String> vars = variables(COMPOSE, COMPOSE_ENV);
    vars.remove("BIOGATE_CONFIG");
    vars.put("BIOGATE_CONFIG", "/etc/biogate/cluster.json");
    assertLoadsAsIntended(vars, Path.of("conf", "examples", "cluster.json"), dir);
  }

  @Test
  void kubernetesSetsOnlyVariablesTheGatewayReads(@TempDir Path dir) throws IOException {
    Path config = dir.resolve("biogate.json");
    Files.writeString(config, configMapJson().encode());
    assertLoadsAsIntended(variables(DEPLOYMENT, K8S_ENV), config, dir);
  }

  @Test
  void exampleConfigsLoadAsTheirTopology() {
    BiogateConfig cluster = ConfigLoader.load(Map.of("BIOGATE_CONFIG", "conf/examples/cluster.json"), BASE);
    assertEquals(RedisConfig.Type.CLUSTER, cluster.redis().type());
    assertEquals(6, cluster.redis().endpoints().size());
    BiogateConfig sentinel = ConfigLoader.load(Map.of("BIOGATE_CONFIG", "conf/examples/sentinel.json"), BASE);
    assertEquals(RedisConfig.Type.SENTINEL, sentinel.redis().type());
    assertEquals("biogate", sentinel.redis().masterName());
    assertEquals(3, sentinel.redis().endpoints().size());
  }

  @Test
  void terminationWaitsLongerThanPreStopPlusTheDrain() throws IOException {
    String deployment = Files.readString(DEPLOYMENT);
    long graceS = Long.parseLong(match(deployment, "terminationGracePeriodSeconds:\\s+(\\d+)"));
    long preStopS = Long.parseLong(match(deployment, "command:\\s+\\[\"sleep\",\\s+\"(\\d+)\"\\]"));
    long drainMs = new BiogateConfig(configMapJson()).http().shutdownGraceMs();
    assertTrue(graceS * 1000 >= preStopS * 1000 + drainMs, "k8s grace " + graceS + " s < preStop + drain");
    long composeGraceS = Long.parseLong(match(Files.readString(COMPOSE), "stop_grace_period:\\s+(\\d+)s"));
    long composeDrainMs = ConfigLoader.load(Map.of("BIOGATE_CONFIG", "conf/examples/cluster.json"), BASE).http().shutdownGraceMs();
    assertTrue(composeGraceS * 1000 > composeDrainMs, "compose stop_grace_period shorter than the drain");
  }

  @Test
  void everyProbePathAnswers200OnARunningGateway(Vertx vertx, VertxTestContext ctx) throws IOException {
    Set<String> paths = new LinkedHashSet<>();
    Matcher m = PROBE_PATH.matcher(Files.readString(DEPLOYMENT));
    while (m.find()) {
      paths.add(m.group(1));
    }
    assertEquals(Set.of("/health/live", "/health/ready"), paths);
    Harness h = new Harness(vertx);
    h.start().compose(x -> h.gateway(new JsonObject())).compose(g -> {
      List<Future<?>> probes = new ArrayList<>();
      for (String p : paths) {
        probes.add(h.get(g, p).map(r -> {
          ctx.verify(() -> assertEquals(200, r.statusCode(), p));
          return r;
        }));
      }
      return Future.all(probes);
    }).eventually(h::close).onComplete(ctx.succeedingThenComplete());
  }

  /** The {@code biogate.json} embedded in the ConfigMap. */
  private static JsonObject configMapJson() throws IOException {
    String yaml = Files.readString(CONFIG_MAP);
    String body = yaml.substring(yaml.indexOf("biogate.json: |") + "biogate.json: |".length());
    return new JsonObject(body.trim());
  }

  private static String match(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertTrue(m.find(), "found " + regex);
    return m.group(1);
  }
}
