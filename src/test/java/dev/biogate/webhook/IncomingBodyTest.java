package dev.biogate.webhook;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a body being received holds on the heap is what it is charged against the body budget. Found by a re-drill:
 * chunks were kept as they came, each charged its length, and a 1-byte chunk held ~115 B of heap; two addresses
 * sending 1-byte chunks within their shares held enough to run a 160 MB heap out of memory, with no secret.
 */
class IncomingBodyTest {

  private static final int CHUNKS = 400_000;

  @Test
  void oneByteChunksHoldNoMoreHeapThanTheyAreCharged() {
    BodyBudget budget = new BodyBudget(64L << 20);
    IncomingBody body = new IncomingBody(budget, null, 1 << 20);
    long before = usedAfterGc();
    for (int i = 0; i < CHUNKS; i++) {
      // As the server hands them over: a buffer of its own per chunk.
      assertEquals(IncomingBody.Taken.TAKEN, body.take(Buffer.buffer(new byte[] {(byte) ('a' + i % 26)})));
    }
    long held = usedAfterGc() - before;
    assertTrue(held < 8L << 20, "400,000 one-byte chunks hold " + held / 1024 + " KiB of heap, charged "
      + body.charged() / 1024 + " KiB");
    assertTrue(held <= 2 * body.charged() + (2L << 20), "held " + held + " B, charged " + body.charged() + " B");
    Buffer bytes = body.bytes();
    assertEquals(CHUNKS, bytes.length());
    assertEquals('a', bytes.getByte(0));
    assertEquals('a' + (CHUNKS - 1) % 26, bytes.getByte(CHUNKS - 1));
    body.release();
  }

  @Test
  void aWholeBodyInOneChunkIsKeptAsItCameAndChargedItsLength() {
    BodyBudget budget = new BodyBudget(1 << 20);
    IncomingBody body = new IncomingBody(budget, "203.0.113.9", 64 * 1024);
    Buffer whole = Buffer.buffer("{\"type\":\"profile.updated\"}");
    assertEquals(IncomingBody.Taken.TAKEN, body.take(whole));
    assertEquals(whole.length(), body.charged());
    assertEquals(whole, body.bytes());
    body.release();
    assertEquals(0, budget.clients(), "given back");
  }

  @Test
  void aBodyPastTheLimitOrTheShareIsRefused() {
    BodyBudget budget = new BodyBudget(16 * 1024, 4 * 1024);
    IncomingBody big = new IncomingBody(budget, null, 1024);
    assertEquals(IncomingBody.Taken.TAKEN, big.take(Buffer.buffer(new byte[1000])));
    assertEquals(IncomingBody.Taken.TOO_LARGE, big.take(Buffer.buffer(new byte[100])));
    big.release();
    IncomingBody shared = new IncomingBody(budget, "203.0.113.9", 64 * 1024);
    IncomingBody.Taken last = IncomingBody.Taken.TAKEN;
    for (int i = 0; i < 100 && last == IncomingBody.Taken.TAKEN; i++) {
      last = shared.take(Buffer.buffer(new byte[512]));
    }
    assertEquals(IncomingBody.Taken.NO_ROOM, last, "the client's share (4 KiB) ends it");
    assertTrue(shared.charged() <= 4 * 1024, "charged within the share: " + shared.charged());
    shared.release();
    assertEquals(0, budget.clients());
  }

  private static long usedAfterGc() {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return memory.getHeapMemoryUsage().getUsed();
  }
}
