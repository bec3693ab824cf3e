package dev.biogate.webhook;

import dev.biogate.config.Secret;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Secrets travel through verifiers, verdicts and failures without ever being written out. */
class SecretHygieneTest {

  private static final String RAW = "whsec_do_not_print_me_7f3a9c";
  private static final Secret SECRET = Secret.of(RAW);

  private static void assertNoSecret(String text) {
    if (text != null) {
      assertFalse(text.contains(RAW), "secret leaked in: " + text.replace(RAW, "<SECRET>"));
    }
  }

  private static void assertNoSecretIn(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      assertNoSecret(t.getMessage());
      assertNoSecret(t.toString());
    }
  }

  private static void assertFailsWithoutSecret(Executable executable) {
    assertNoSecretIn(assertThrows(RuntimeException.class, executable));
  }

  @Test
  void verifiersAndVerdictsNeverPrintTheSecret() {
    List<String> printed = new ArrayList<>();
    LinktreeVerifier linktree = new LinktreeVerifier(List.of(SECRET, Secret.of(RAW + "_old")));
    LinkmeVerifier linkme = new LinkmeVerifier(List.of(SECRET));
    printed.add(linktree.toString());
    printed.add(linkme.toString());

    Buffer body = Buffer.buffer("{}");
    MultiMap good = MultiMap.caseInsensitiveMultiMap()
      .add(LinktreeVerifier.SIGNATURE_HEADER, LinktreeVerifier.sign(SECRET, "100", body))
      .add(LinktreeVerifier.TIMESTAMP_HEADER, "100")
      .add(LinkmeVerifier.SIGNATURE_HEADER, LinkmeVerifier.sign(SECRET, body));
    printed.add(linktree.verify(good, body, 100).toString());
    printed.add(linktree.verify(good, body, 1_000_000).toString());
    printed.add(linktree.verify(good, Buffer.buffer("{ }"), 100).toString());
    printed.add(linktree.verify(MultiMap.caseInsensitiveMultiMap(), body, 100).toString());
    printed.add(linkme.verify(good, body, 0).toString());

    assertFalse(linktree.toString().isEmpty());
    printed.forEach(SecretHygieneTest::assertNoSecret);
  }

  @Test
  void configurationFailuresNeverCarryTheSecret() {
    assertFailsWithoutSecret(() -> new LinktreeVerifier(List.of(SECRET), -1, 300));
    assertFailsWithoutSecret(() -> new LinktreeVerifier(List.of(SECRET), 300, -1));
    assertFailsWithoutSecret(() -> new LinktreeVerifier(Arrays.asList(SECRET, null)));
    assertFailsWithoutSecret(() -> new LinkmeVerifier(Arrays.asList(SECRET, null)));
    assertFailsWithoutSecret(() -> LinktreeVerifier.sign(null, "100", Buffer.buffer()));
    assertFailsWithoutSecret(() -> LinkmeVerifier.sign(null, Buffer.buffer()));
  }
}
