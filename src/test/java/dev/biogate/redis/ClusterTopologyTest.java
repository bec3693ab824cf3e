package dev.biogate.redis;

import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.types.BulkType;
import io.vertx.redis.client.impl.types.MultiType;
import io.vertx.redis.client.impl.types.NumberType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a {@code CLUSTER SLOTS} reply is read as: owners, their replicas, what counts as a change, and its log text. */
class ClusterTopologyTest {

  @Test
  void aChangeOfReplicasAloneIsAChangeAndItsLogLineSaysSo() {
    ClusterTopology before = ClusterTopology.parse(slots(
      range(0, 8191, "10.0.0.1:7000", "10.0.0.4:7003"),
      range(8192, 16383, "10.0.0.2:7001", "10.0.0.5:7004", "10.0.0.6:7005")), "10.0.0.1");
    assertEquals(List.of("10.0.0.4:7003"), before.replicas(100));
    assertEquals(List.of("10.0.0.5:7004", "10.0.0.6:7005"), before.replicas(9000));

    ClusterTopology reordered = ClusterTopology.parse(slots(
      range(0, 8191, "10.0.0.1:7000", "10.0.0.4:7003"),
      range(8192, 16383, "10.0.0.2:7001", "10.0.0.6:7005", "10.0.0.5:7004")), "10.0.0.2");
    assertTrue(before.sameAs(reordered), "the same replicas listed in another order are no change");
    assertEquals(before.toString(), reordered.toString());

    // The first master's replica is replaced; owners are unchanged.
    ClusterTopology after = ClusterTopology.parse(slots(
      range(0, 8191, "10.0.0.1:7000", "10.0.0.7:7006"),
      range(8192, 16383, "10.0.0.2:7001", "10.0.0.5:7004", "10.0.0.6:7005")), "10.0.0.1");
    assertFalse(before.sameAs(after), "a replaced replica reaches the replica reads");
    assertNotEquals(before.toString(), after.toString(), "the log line of the new topology differs from the old one's");
    assertTrue(after.toString().contains("10.0.0.7:7006"), after.toString());
    assertEquals("0-8191=10.0.0.1:7000 (replicas 10.0.0.7:7006) 8192-16383=10.0.0.2:7001 (replicas 10.0.0.5:7004,"
      + " 10.0.0.6:7005)", after.toString());
  }

  @Test
  void aMasterWithoutReplicasIsLoggedByItsOwnerAlone() {
    ClusterTopology lone = ClusterTopology.parse(slots(range(0, 16383, ":7000")), "10.0.0.9");
    assertEquals("0-16383=10.0.0.9:7000", lone.toString(), "an empty host is the answering node's");
    assertEquals(List.of(), lone.replicas(0));
  }

  private static Response slots(Response... ranges) {
    MultiType reply = MultiType.create(ranges.length, false);
    for (Response r : ranges) {
      reply.add(r);
    }
    return reply;
  }

  /** One range of a {@code CLUSTER SLOTS} reply: its master, then its replicas, each {@code host:port}. */
  private static Response range(int from, int to, String master, String... replicas) {
    MultiType range = MultiType.create(3 + replicas.length, false);
    range.add(NumberType.create(from));
    range.add(NumberType.create(to));
    range.add(node(master));
    for (String r : replicas) {
      range.add(node(r));
    }
    return range;
  }

  private static Response node(String address) {
    int colon = address.lastIndexOf(':');
    MultiType node = MultiType.create(2, false);
    node.add(BulkType.create(Buffer.buffer(address.substring(0, colon)), false));
    node.add(NumberType.create(Integer.parseInt(address.substring(colon + 1))));
    return node;
  }
}
