package dev.biogate.stream;

import io.vertx.core.VertxException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Redis error is recognised by its code however it arrives. Redis before 7 wraps one raised inside a script in its
 * own {@code ERR}: a group lost under a script (Redis came back empty) read as an outage, and the entries it held were
 * kept and tried again forever ({@code OutboundAfterEmptyRedisTest}).
 */
class StreamErrorsTest {

  @Test
  void anErrorCodeIsFoundPlainOrWrappedByAScriptButNotInsideAnotherMessage() {
    assertTrue(StreamGroup.isError(new VertxException("NOGROUP No such key 's' or consumer group 'g'"), "NOGROUP"));
    assertTrue(StreamGroup.isError(new VertxException("ERR Error running script (call to f_ec43): @user_script:1: NOGROUP"
      + " No such key 's' or consumer group 'g'"), "NOGROUP"));
    assertTrue(StreamGroup.isError(new VertxException("NOGROUP No such key 's' or consumer group 'g' script: ec43, on"
      + " @user_script:1."), "NOGROUP"));
    assertFalse(StreamGroup.isError(new VertxException("ERR unknown command 'NOGROUP'"), "NOGROUP"));
    assertFalse(StreamGroup.isError(new VertxException("ERR Error running script: @user_script:1: WRONGTYPE key"), "NOGROUP"));
    assertFalse(StreamGroup.isError(new VertxException((String) null), "NOGROUP"));
    assertFalse(StreamGroup.isError(null, "NOGROUP"));
  }
}
