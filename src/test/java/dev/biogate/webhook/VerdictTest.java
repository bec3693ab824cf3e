package dev.biogate.webhook;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VerdictTest {

  @Test
  void rejectionsCarryTheContractStatusesAndErrorCodes() {
    assertEquals("missing_signature", Verdict.MISSING.errorCode());
    assertEquals("invalid_signature", Verdict.INVALID.errorCode());
    assertEquals("stale_timestamp", Verdict.STALE.errorCode());
    for (Verdict rejected : new Verdict[] {Verdict.MISSING, Verdict.INVALID, Verdict.STALE}) {
      assertFalse(rejected.isValid(), rejected.toString());
      assertEquals(-1, rejected.secretIndex(), rejected.toString());
    }
  }

  @Test
  void validVerdictCarriesTheMatchingSecretIndexAndNoErrorCode() {
    for (int index : new int[] {0, 1, 7, 8, 100}) {
      Verdict verdict = Verdict.valid(index);
      assertTrue(verdict.isValid());
      assertEquals(Verdict.Outcome.VALID, verdict.outcome());
      assertEquals(index, verdict.secretIndex());
      assertNull(verdict.errorCode());
    }
    assertThrows(IllegalArgumentException.class, () -> Verdict.valid(-1));
  }
}
