package dev.biogate;

import dev.biogate.support.ZeroConfigProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's quick start on a zero-config process, in its order. A newcomer following it asked for {@code nobody}
 * (a never-seen name that does not exist: 11 tokens of the per-client miss quota) and then for {@code alice}, which
 * the start-up log names as a demo profile, and got {@code 429 miss_quota_exceeded} for a minute and a half. The
 * sandbox's demo profiles are the creators a zero-config deployment serves: they are known names.
 */
class QuickStartTest {

  @TempDir
  Path dir;

  @Test
  void theDemoProfilesAreServedAfterTheQuickStartsNotFoundExample() throws Exception {
    ZeroConfigProcess gateway = ZeroConfigProcess.start(dir, List.of());
    try {
      String base = gateway.baseUrl(90, TimeUnit.SECONDS);
      assertEquals(200, ZeroConfigProcess.get(base + "/v1/profiles/demo").statusCode());
      HttpResponse<String> nobody = ZeroConfigProcess.get(base + "/v1/profiles/nobody");
      assertEquals(404, nobody.statusCode(), nobody.body());
      for (String name : List.of("alice", "bob")) {
        HttpResponse<String> r = ZeroConfigProcess.get(base + "/v1/profiles/" + name);
        assertEquals(200, r.statusCode(), name + ": " + r.body());
      }
      // Other never-seen names still cost the quota: nobody's 11 tokens leave none for them.
      HttpResponse<String> stranger = ZeroConfigProcess.get(base + "/v1/profiles/someone-else");
      assertEquals(429, stranger.statusCode(), stranger.body());
    } finally {
      gateway.terminate(30);
    }
  }

  /**
   * A Linktree token without a base is a deployment that meant Linktree and forgot where it is: the Kubernetes
   * manifests did, and their pods served the sandbox's demo profiles (404 for every real creator) with an INFO line
   * for a trace. It is a WARN that names the missing setting.
   */
  @Test
  void aLinktreeTokenWithoutABaseIsWarnedAbout() throws Exception {
    ZeroConfigProcess gateway = ZeroConfigProcess.start(dir, List.of(), java.util.Map.of("LINKTREE_API_TOKEN", "lt-token-without-a-base"));
    try {
      gateway.baseUrl(90, TimeUnit.SECONDS);
      String line = gateway.lines().stream().filter(l -> l.contains("LINKTREE_API_BASE is not")).findFirst().orElse("");
      assertTrue(line.contains("\"level\":\"WARN\""), "a WARN line: " + gateway.lines());
      assertFalse(line.contains("lt-token-without-a-base"), "the token is not in it: " + line);
    } finally {
      gateway.terminate(30);
    }
  }
}
