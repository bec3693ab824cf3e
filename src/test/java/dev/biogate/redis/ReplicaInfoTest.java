package dev.biogate.redis;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Which replicas count for the replica wait: only those online. A master demoted by Sentinel reconnects as a replica
 * and needs a full resync (seconds) before it acknowledges anything; counted as a replica at once, every delivery
 * waited for it in vain and was answered 503 for ~5.7 s after each failover in a drill. While it syncs the master is
 * alone, exactly as without a replica. The texts are {@code INFO replication} replies of Redis 7.0.
 */
class ReplicaInfoTest {

  private static final String ONLINE = "# Replication\r\nrole:master\r\nconnected_slaves:1\r\n"
    + "slave0:ip=127.0.0.1,port=27102,state=online,offset=2081300,lag=0\r\nmaster_failover_state:no-failover\r\n";
  private static final String SYNCING = "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n"
    + "slave0:ip=127.0.0.1,port=27101,state=wait_bgsave,offset=0,lag=0\r\n"
    + "slave1:ip=127.0.0.1,port=27103,state=send_bulk,offset=0,lag=0\r\n";
  private static final String NONE = "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n";

  @Test
  void countsOnlyReplicasThatAreOnline() {
    assertEquals(1, ReplicaWatch.onlineReplicas(ONLINE));
    assertEquals(0, ReplicaWatch.onlineReplicas(SYNCING));
    assertEquals(0, ReplicaWatch.onlineReplicas(NONE));
    assertEquals(1, ReplicaWatch.onlineReplicas(SYNCING.replace("state=send_bulk", "state=online")));
  }

  /**
   * A key is watched through any watched key of its slot: keys sharing a hash tag sit on one master, as Redis Cluster
   * hashes only the text between the first braces when it is not empty.
   */
  /** A promoted replica keeps its old master's history id and the offset it shares with it; others show -1. */
  @Test
  void tellsAPromotedReplicaAndAReplicaStillSyncing() {
    String promoted = "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_replid:5f2a\r\n"
      + "master_replid2:9c1e\r\nmaster_repl_offset:4200\r\nsecond_repl_offset:3901\r\n";
    assertEquals(true, ReplicaWatch.promoted(promoted));
    assertEquals(false, ReplicaWatch.promoted(promoted.replace("second_repl_offset:3901", "second_repl_offset:-1")));
    assertEquals(false, ReplicaWatch.promoted(NONE));
    assertEquals(2, ReplicaWatch.attachedReplicas(SYNCING));
    assertEquals(0, ReplicaWatch.attachedReplicas(NONE));
  }

  @Test
  void keysSharingAHashTagAreWatchedTogether() {
    assertEquals("bg", ReplicaWatch.hashTag(RedisKeys.KLAVIYO_DLQ));
    assertEquals("bg", ReplicaWatch.hashTag(RedisKeys.JOBS_ACTIVE));
    assertEquals("a{b", ReplicaWatch.hashTag("x{a{b}c"));
    assertEquals("x{}y", ReplicaWatch.hashTag("x{}y"));
    assertEquals("x{y", ReplicaWatch.hashTag("x{y"));
    assertEquals("x}{y", ReplicaWatch.hashTag("x}{y"));
    ReplicaWatch watch = new ReplicaWatch(null, null, "auto", 4, null, java.util.List.of("bg:out:{out}", RedisKeys.JOBS_ACTIVE), 0);
    assertEquals(5, watch.indexOf(RedisKeys.CREATOR_KEY_INDEX));
    assertEquals(5, watch.indexOf(RedisKeys.KLAVIYO_DLQ));
    assertEquals(4, watch.indexOf("bg:out:{out}:dead"));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> watch.indexOf("bg:{other}"));
  }

  /** The address the server saw the connection arrive at, from {@code CLIENT INFO}. */
  @Test
  void readsTheLocalAddressOfClientInfo() {
    assertEquals("10.0.0.2:6379", ReplicaWatch.localAddress(
      "id=7 addr=10.0.0.9:51234 laddr=10.0.0.2:6379 fd=9 name= age=3 idle=0 flags=N db=0\n"));
    assertEquals(null, ReplicaWatch.localAddress("id=7 addr=10.0.0.9:51234 fd=9\n"));
  }

  /** Shards that change together are logged in one line as ranges: 17 lines per start and per failover before. */
  @Test
  void shardsThatChangeTogetherAreNamedAsRanges() {
    assertEquals("0-15", ReplicaWatch.ranges(java.util.List.of(3, 0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)));
    assertEquals("0-2, 5, 7-8", ReplicaWatch.ranges(java.util.List.of(8, 7, 5, 2, 1, 0)));
    assertEquals("4", ReplicaWatch.ranges(java.util.List.of(4)));
  }
}
