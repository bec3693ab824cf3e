package dev.biogate;

import dev.biogate.support.ZeroConfigProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shell examples of the project's docs run as written. A newcomer pasted the README's webhook example and the
 * shell waited for a closing quote: a stray {@code '} inside its JSON body.
 */
class DocsExamplesTest {

  private static final Pattern BLOCK = Pattern.compile("```(?:sh|bash)\\n(.*?)```", Pattern.DOTALL);
  private static final Pattern LISTENING = Pattern.compile("biogate listening on http://127\\.0\\.0\\.1:(\\d+)");
  private static final Pattern MANAGEMENT = Pattern.compile("management \\(metrics, admin, health\\) on http://127\\.0\\.0\\.1:(\\d+)");

  @TempDir
  Path dir;

  /** Every {@code sh}/{@code bash} block of every Markdown file outside {@code target/} parses ({@code bash -n}). */
  /**
   * README: "explain each dependency in one line". A newcomer found three of the pom's (two test libraries and the JUnit
   * BOM) missing from the table: every dependency the pom declares, imported BOMs included, has a row naming it.
   */
  @Test
  void everyDependencyOfThePomHasARowInTheReadmesTable() throws IOException {
    String pom = Files.readString(Path.of("pom.xml"));
    String readme = Files.readString(Path.of("README.md"));
    int at = readme.indexOf("## Dependencies");
    assertTrue(at >= 0, "the README has a Dependencies section");
    int end = readme.indexOf("\n## ", at + 1);
    String table = readme.substring(at, end < 0 ? readme.length() : end);
    List<String> missing = new ArrayList<>();
    Matcher dependency = Pattern.compile("<dependency>\\s*<groupId>[^<]*</groupId>\\s*<artifactId>([^<]+)</artifactId>").matcher(pom);
    int found = 0;
    while (dependency.find()) {
      found++;
      if (!table.contains(dependency.group(1))) {
        missing.add(dependency.group(1));
      }
    }
    assertTrue(found >= 15, "read the pom's dependencies: " + found);
    assertEquals(List.of(), missing, "dependencies without a row in the README's table");
  }

  @Test
  void everyShellBlockOfTheDocsParses() throws Exception {
    List<Path> docs;
    try (Stream<Path> files = Files.walk(Path.of("."))) {
      docs = files.filter(p -> p.toString().endsWith(".md"))
        .filter(p -> !p.startsWith("./target") && !p.startsWith("./.git")).sorted().toList();
    }
    assertTrue(docs.contains(Path.of("./README.md")), "found the README: " + docs);
    int blocks = 0;
    List<String> broken = new ArrayList<>();
    for (Path doc : docs) {
      Matcher m = BLOCK.matcher(Files.readString(doc));
      while (m.find()) {
        blocks++;
        Process bash = new ProcessBuilder("bash", "-n").redirectErrorStream(true).start();
        bash.getOutputStream().write(m.group(1).getBytes(StandardCharsets.UTF_8));
        bash.getOutputStream().close();
        String said = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(bash.waitFor(10, TimeUnit.SECONDS));
        if (bash.exitValue() != 0) {
          broken.add(doc + ": " + said.strip() + "\n" + m.group(1));
        }
      }
    }
    assertTrue(blocks >= 20, "shell blocks found: " + blocks);
    assertEquals(List.of(), broken);
  }

  /**
   * The README's webhook example, pasted into bash against a gateway started as the README says (its ports chosen
   * here): the delivery is received, then a duplicate, the cached bio is patched, and analytics answers with a key.
   */
  @Test
  void theReadmesWebhookExampleRunsAsWritten() throws Exception {
    String block = readmeBlock("webhooks/linktree");
    ZeroConfigProcess gateway = ZeroConfigProcess.start(dir, List.of(), Map.of("LINKTREE_WEBHOOK_SECRET", "whsec_demo",
      "LINKME_WEBHOOK_SECRET", "lm_demo", "KLAVIYO_WEBHOOK_SECRET", "kl_demo", "BIOGATE_ADMIN_TOKEN", "admin-demo-token-123"));
    try {
      assertTrue(gateway.awaitLine("biogate listening on", 90, TimeUnit.SECONDS), "started: " + gateway.lines());
      String port = gateway.group(LISTENING);
      String management = gateway.group(MANAGEMENT);
      String script = block.replace("localhost:8080", "127.0.0.1:" + port).replace("localhost:9090", "127.0.0.1:" + management)
        // The README shows the second send as a comment ("again: duplicate"); send it twice here.
        + "\n" + sendAgain(block).replace("localhost:8080", "127.0.0.1:" + port);
      Process bash = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true).directory(dir.toFile()).start();
      bash.getOutputStream().close();
      String out = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(bash.waitFor(60, TimeUnit.SECONDS), out);
      assertEquals(0, bash.exitValue(), out);
      assertTrue(out.contains("{\"received\":true}"), out);
      assertTrue(out.contains("\"bio\":\"Fresh bio\""), out);
      assertTrue(out.contains("{\"duplicate\":true}"), out);
      assertTrue(out.contains("\"username\":\"demo\"") && out.contains("\"granularity\":\"hour\""), "analytics answered: " + out);
      assertFalse(out.contains("\"error\""), out);
    } finally {
      gateway.terminate(30);
    }
  }

  private static String readmeBlock(String containing) throws IOException {
    Matcher m = BLOCK.matcher(Files.readString(Path.of("README.md")));
    while (m.find()) {
      if (m.group(1).contains(containing)) {
        return m.group(1);
      }
    }
    throw new AssertionError("no README shell block contains " + containing);
  }

  /** The block's webhook {@code curl} (one command over its continuation lines), to send the same delivery again. */
  private static String sendAgain(String block) {
    int start = block.indexOf("curl -s localhost:8080/webhooks/linktree");
    int end = block.indexOf('\n', block.indexOf("-d \"$body\"", start));
    return block.substring(start, end);
  }
}
