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
import org.yaml.snakeyaml.Yaml;

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
  private static final Path SECRET_EXAMPLE = Path.of("deploy", "k8s", "secret.example.yaml");
  private static final Path DOCKERFILE = Path.of("deploy", "Dockerfile");
  /** The uid the image runs as ({@code USER} in the Dockerfile, {@code runAsUser} in the Deployment). */
  private static final String RUNTIME_UID = "10001";
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
    // Prometheus scrapes /metrics from another container or pod: loopback inside the container is unreachable.
    assertEquals("0.0.0.0", c.http().managementHost(), "management listener reachable by the scraper");
    // Replicas behind one load balancer must sign links cursors with the same key.
    assertTrue(vars.containsKey("BIOGATE_CURSOR_SECRET_FILE"), "BIOGATE_CURSOR_SECRET_FILE set from a shared secret");
    assertEquals("placeholder-biogate_cursor_secret_file-0123456789", c.http().cursorSecret().reveal());
    // The default ./data/clicks.journal is under the image's root-owned WORKDIR: the runtime user cannot create it.
    assertTrue(vars.containsKey("BIOGATE_CLICK_JOURNAL"), "click journal placed explicitly");
    assertTrue(c.analytics().journalPath().startsWith("/"), "absolute journal path: " + c.analytics().journalPath());
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
  @SuppressWarnings("unchecked")
  void composeGatewaysJournalOnAWritablePersistentVolumeAndKeepManagementPrivate() throws IOException {
    Map<String, Object> compose = new Yaml().load(Files.readString(COMPOSE));
    Map<String, Object> services = (Map<String, Object>) compose.get("services");
    Map<String, Object> namedVolumes = (Map<String, Object>) compose.getOrDefault("volumes", Map.of());
    String imageJournalDir = dockerfileJournalDir();
    Set<String> volumesUsed = new LinkedHashSet<>();
    int gateways = 0;
    for (Map.Entry<String, Object> e : services.entrySet()) {
      Map<String, Object> svc = (Map<String, Object>) e.getValue();
      Map<String, Object> env = (Map<String, Object>) svc.getOrDefault("environment", Map.of());
      if (!e.getKey().startsWith("gateway")) {
        continue;
      }
      gateways++;
      String journal = String.valueOf(env.get("BIOGATE_CLICK_JOURNAL"));
      String journalDir = Path.of(journal).getParent().toString();
      assertEquals(imageJournalDir, journalDir, e.getKey() + ": journal in the directory the image prepares");
      String volume = null;
      for (Object v : (List<Object>) svc.getOrDefault("volumes", List.of())) {
        String[] parts = String.valueOf(v).split(":");
        if (parts.length >= 2 && parts[1].equals(journalDir)) {
          volume = parts[0];
        }
      }
      assertTrue(volume != null, e.getKey() + ": a volume is mounted at " + journalDir);
      assertTrue(namedVolumes.containsKey(volume), e.getKey() + ": " + volume + " is a named (persistent) volume");
      assertTrue(volumesUsed.add(volume), e.getKey() + ": its journal volume is its own");
      assertTrue(((List<Object>) svc.get("secrets")).contains("cursor_secret"), e.getKey() + ": cursor secret mounted");
      assertEquals("/run/secrets/cursor_secret", env.get("BIOGATE_CURSOR_SECRET_FILE"));
      for (Object port : (List<Object>) svc.getOrDefault("ports", List.of())) {
        assertFalse(String.valueOf(port).endsWith(":9090") || String.valueOf(port).equals("9090"),
          e.getKey() + ": the management port is not published: " + port);
      }
    }
    assertEquals(3, gateways);
  }

  @Test
  void imageCreatesTheJournalDirectoryForItsRuntimeUser() throws IOException {
    String docker = Files.readString(DOCKERFILE);
    assertEquals(RUNTIME_UID, match(docker, "(?m)^USER\\s+(\\S+)\\s*$"));
    String dir = dockerfileJournalDir();
    assertTrue(Pattern.compile("mkdir -p [^\\n]*" + Pattern.quote(dir)).matcher(docker).find(), "the image creates " + dir);
    assertTrue(Pattern.compile("chown [^\\n]*" + RUNTIME_UID + "[^\\n]*" + Pattern.quote(dir)).matcher(docker).find(),
      "the image gives " + dir + " to uid " + RUNTIME_UID);
    assertTrue(Pattern.compile("(?m)^VOLUME\\s+\\[?\"?" + Pattern.quote(dir)).matcher(docker).find(), dir + " is a volume");
  }

  @Test
  @SuppressWarnings("unchecked")
  void kubernetesPodCanReadItsSecretsAndWriteItsJournal() throws IOException {
    Map<String, Object> deployment = new Yaml().load(Files.readString(DEPLOYMENT));
    Map<String, Object> pod = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) deployment.get("spec"))
      .get("template")).get("spec");
    Map<String, Object> security = (Map<String, Object>) pod.get("securityContext");
    assertEquals(Integer.parseInt(RUNTIME_UID), security.get("runAsUser"));
    // Secret and emptyDir volumes are owned by root unless fsGroup is set; the files must then be group-readable.
    assertTrue(security.get("fsGroup") instanceof Integer, "fsGroup set, so mounted volumes belong to the pod's group");
    Map<String, Object> secretVolume = null;
    String journalVolume = null;
    Map<String, Object> container = ((List<Map<String, Object>>) pod.get("containers")).get(0);
    String journal = null;
    for (Map<String, Object> env : (List<Map<String, Object>>) container.get("env")) {
      if ("BIOGATE_CLICK_JOURNAL".equals(env.get("name"))) {
        journal = String.valueOf(env.get("value"));
      }
    }
    assertTrue(journal != null, "BIOGATE_CLICK_JOURNAL set");
    for (Map<String, Object> m : (List<Map<String, Object>>) container.get("volumeMounts")) {
      if (Path.of(journal).getParent().toString().equals(m.get("mountPath"))) {
        journalVolume = String.valueOf(m.get("name"));
      }
    }
    assertTrue(journalVolume != null, "a volume is mounted at the journal's directory");
    for (Map<String, Object> v : (List<Map<String, Object>>) pod.get("volumes")) {
      if (v.containsKey("secret")) {
        secretVolume = (Map<String, Object>) v.get("secret");
      }
    }
    int mode = (Integer) secretVolume.get("defaultMode");
    assertTrue((mode & 0040) != 0, "secret files readable by the fsGroup: defaultMode " + Integer.toOctalString(mode));
    Set<String> ports = new LinkedHashSet<>();
    for (Map<String, Object> p : (List<Map<String, Object>>) container.get("ports")) {
      ports.add(p.get("name") + "=" + p.get("containerPort"));
    }
    assertTrue(ports.contains("management=9090"), "management port declared for the scraper: " + ports);
    Map<String, Object> secret = new Yaml().load(Files.readString(SECRET_EXAMPLE));
    Map<String, Object> keys = (Map<String, Object>) secret.get("stringData");
    for (Map<String, Object> env : (List<Map<String, Object>>) container.get("env")) {
      String name = String.valueOf(env.get("name"));
      if (name.endsWith("_FILE")) {
        String key = Path.of(String.valueOf(env.get("value"))).getFileName().toString();
        assertTrue(keys.containsKey(key), name + ": the Secret has a key " + key);
      }
    }
  }

  /** The directory the Dockerfile's {@code BIOGATE_CLICK_JOURNAL} lives in. */
  private static String dockerfileJournalDir() throws IOException {
    String journal = match(Files.readString(DOCKERFILE), "(?m)^ENV\\s+BIOGATE_CLICK_JOURNAL=(\\S+)\\s*$");
    return Path.of(journal).getParent().toString();
  }

  @Test
  void exampleConfigsLoadAsTheirTopology() {
    BiogateConfig cluster = ConfigLoader.load(Map.of("BIOGATE_CONFIG", "conf/examples/cluster.json"), BASE);
    assertEquals(RedisConfig.Type.CLUSTER, cluster.redis().type());
    assertEquals(6, cluster.redis().endpoints().size());
    BiogateConfig sentinel = ConfigLoader.load(Map.of("BIOGATE_CONFIG", "conf/examples/sentinel.json"), BASE);
    assertEquals(RedisConfig.Type.SENTINEL, sentinel.redis().type());
    assertEquals("mymaster", sentinel.redis().masterName());
    assertEquals(3, sentinel.redis().endpoints().size());
  }

  /** What CleanStopTest allows the JVM past the stop's deadline. */
  private static final long EXIT_MS = 3_500;

  @Test
  void terminationWaitsLongerThanPreStopPlusTheWholeStop() throws IOException {
    String deployment = Files.readString(DEPLOYMENT);
    long graceS = Long.parseLong(match(deployment, "terminationGracePeriodSeconds:\\s+(\\d+)"));
    long preStopS = Long.parseLong(match(deployment, "command:\\s+\\[\"sleep\",\\s+\"(\\d+)\"\\]"));
    // The whole stop: its deadline (the drain and 5 s for the rest), then the JVM's exit, which CleanStopTest
    // allows 3.5 s past the deadline.
    long stopMs = new BiogateConfig(configMapJson()).http().stopDeadlineMs() + EXIT_MS;
    assertTrue(graceS * 1000 >= preStopS * 1000 + stopMs, "k8s grace " + graceS + " s < preStop + the whole stop");
    long composeGraceS = Long.parseLong(match(Files.readString(COMPOSE), "stop_grace_period:\\s+(\\d+)s"));
    long composeStopMs = ConfigLoader.load(Map.of("BIOGATE_CONFIG", "conf/examples/cluster.json"), BASE).http().stopDeadlineMs() + EXIT_MS;
    assertTrue(composeGraceS * 1000 >= composeStopMs, "compose stop_grace_period shorter than the whole stop");
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

  /**
   * The image caps the heap and the off-heap bodies as the README advises, within the Deployment's memory limit with
   * room for the JVM's own memory: it used to size the heap at 75 % of the limit, leaving off-heap bodies (whose
   * default ceiling equals the heap) room to pass the limit.
   */
  @Test
  void theImagesMemoryFlagsFitTheDeploymentsLimit() throws IOException {
    String docker = Files.readString(DOCKERFILE);
    String opts = match(docker, "JAVA_TOOL_OPTIONS=\"([^\"]+)\"");
    assertFalse(docker.contains("MaxRAMPercentage"), "heap not sized from the container's limit");
    long heap = mib(match(opts, "-Xmx(\\d+[mg])"));
    long direct = mib(match(opts, "-XX:MaxDirectMemorySize=(\\d+[mg])"));
    long limit = mib(match(Files.readString(DEPLOYMENT), "limits:\\s+memory:\\s+(\\d+)Gi") + "g");
    assertTrue(heap + direct + 256 <= limit, heap + " MiB heap + " + direct + " MiB off-heap + 256 MiB JVM within " + limit + " MiB");
    assertTrue(README_JVM_LINE.matcher(Files.readString(Path.of("README.md"))).find(), "README advises the same flags");
  }

  /**
   * With {@code ExitOnOutOfMemoryError}: found with raw sockets, a JVM out of memory in its event loops answered
   * nothing on either port and ignored SIGTERM; it must exit so that its supervisor restarts it.
   */
  private static final Pattern README_JVM_LINE = Pattern.compile(
    "MALLOC_ARENA_MAX=2 java -Xms160m -Xmx160m -XX:MaxDirectMemorySize=384m -XX:\\+ExitOnOutOfMemoryError");

  private static long mib(String size) {
    long n = Long.parseLong(size.substring(0, size.length() - 1));
    return size.endsWith("g") ? n * 1024 : n;
  }
}
