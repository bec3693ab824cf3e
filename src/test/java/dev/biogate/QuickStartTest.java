package dev.biogate;

import dev.biogate.support.ZeroConfigProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
