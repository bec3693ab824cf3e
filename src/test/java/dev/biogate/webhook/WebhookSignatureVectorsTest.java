package dev.biogate.webhook;

import dev.biogate.config.Secret;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every shared vector, each verified with its own secret at its own {@code now}. */
class WebhookSignatureVectorsTest {

  static List<WebhookVectors.Vector> linktreeVectors() {
    return WebhookVectors.linktree();
  }

  static List<WebhookVectors.Vector> linkmeVectors() {
    return WebhookVectors.linkme();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("linktreeVectors")
  void linktreeVerdictMatchesVector(WebhookVectors.Vector vector) {
    WebhookVerifier verifier = new LinktreeVerifier(List.of(Secret.of(vector.secret())));
    Verdict verdict = verifier.verify(vector.headers(), vector.body(), vector.now());
    assertEquals(expected(vector), verdict.outcome(), vector.name());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("linkmeVectors")
  void linkmeVerdictMatchesVector(WebhookVectors.Vector vector) {
    WebhookVerifier verifier = new LinkmeVerifier(List.of(Secret.of(vector.secret())));
    Verdict verdict = verifier.verify(vector.headers(), vector.body(), vector.now());
    assertEquals(expected(vector), verdict.outcome(), vector.name());
  }

  private static Verdict.Outcome expected(WebhookVectors.Vector vector) {
    switch (vector.expect()) {
      case "valid":
        return Verdict.Outcome.VALID;
      case "invalid":
        return Verdict.Outcome.INVALID;
      case "stale":
        return Verdict.Outcome.STALE;
      default:
        throw new IllegalArgumentException("unknown expectation '" + vector.expect() + "' in " + vector.name());
    }
  }
}
