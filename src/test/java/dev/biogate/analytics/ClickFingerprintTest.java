package dev.biogate.analytics;

import dev.biogate.config.ClickOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A visitor is a fingerprint: HMAC of IP, User-Agent, creator and link under a key derived each day from the secret,
 * cut to 128 bits. The same visitor is the same fingerprint all day (so a repeat within the window is caught), and a
 * different one the next day (fingerprints of different days cannot be linked); IP and User-Agent are not in it.
 */
class ClickFingerprintTest {

  private static final String IP = "203.0.113.77";
  private static final String UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0";

  private static ClickGate gate(String secret) {
    return new ClickGate(new ClickOptions(new JsonObject().put("fingerprintSecret", secret)), List.of(), false);
  }

  private static long at(String instant) {
    return Instant.parse(instant).toEpochMilli();
  }

  @Test
  void oneVisitorIsOneFingerprintAllDayAndAnotherTheNextDay() {
    ClickGate gate = gate("a-secret-of-at-least-16-chars");
    String morning = gate.fingerprint(IP, UA, "demo", "lnk_1", at("2026-12-07T00:00:01Z"));
    String evening = gate.fingerprint(IP, UA, "demo", "lnk_1", at("2026-12-07T23:59:59Z"));
    String nextDay = gate.fingerprint(IP, UA, "demo", "lnk_1", at("2026-12-08T00:00:01Z"));
    assertEquals(morning, evening, "the same visitor all day");
    assertNotEquals(morning, nextDay, "not linkable to the next day's");
    assertNotEquals(morning, gate.fingerprint(IP, UA, "demo", "lnk_2", at("2026-12-07T00:00:01Z")), "per link");
    assertNotEquals(morning, gate.fingerprint("203.0.113.78", UA, "demo", "lnk_1", at("2026-12-07T00:00:01Z")), "per IP");
    assertTrue(morning.matches("[0-9a-f]{32}"), "128 bits in hex: " + morning);
  }

  @Test
  void anotherSecretGivesAnotherFingerprint() {
    long now = at("2026-12-07T12:00:00Z");
    assertEquals(gate("a-secret-of-at-least-16-chars").fingerprint(IP, UA, "demo", "lnk_1", now),
      gate("a-secret-of-at-least-16-chars").fingerprint(IP, UA, "demo", "lnk_1", now), "the same secret, the same fingerprint");
    assertNotEquals(gate("a-secret-of-at-least-16-chars").fingerprint(IP, UA, "demo", "lnk_1", now),
      gate("another-secret-at-least-16-chars").fingerprint(IP, UA, "demo", "lnk_1", now));
  }
}
