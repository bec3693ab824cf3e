package dev.biogate.support;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * A harness test against a master and its replica of its own ({@link MasterReplica}), for the writes that are
 * acknowledged only once a replica holds them: {@link #startReplicated()} starts both and the harness on the master;
 * they are stopped after the test's gateways.
 */
public abstract class ReplicatedHarnessTest extends UnstartedHarnessTest {

  protected MasterReplica redis;

  protected Future<Void> startReplicated() {
    return MasterReplica.start(h.vertx).compose(mr -> {
      redis = mr;
      h.closeLast(() -> mr.stop(h.vertx));
      return h.start(mr.masterUrl(), new JsonObject()).mapEmpty();
    });
  }
}
