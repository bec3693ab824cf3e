package dev.biogate;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The tests run with the Vert.x switches the launcher sets ({@link Main#JVM_DEFAULTS}, mirrored in the surefire
 * configuration): a switch set only by the launcher made the tested HTTP stack differ from the real one (trailer
 * fields were validated by Netty under test and not at all in the running gateway).
 */
class JvmDefaultsTest {

  @Test
  void theTestJvmRunsWithTheLaunchersVertxSwitches() {
    assertFalse(Main.JVM_DEFAULTS.isEmpty());
    Main.JVM_DEFAULTS.forEach((key, value) ->
      assertEquals(value, System.getProperty(key), key + " must be set in pom.xml's surefire systemPropertyVariables"));
  }
}
