package dev.biogate.cluster;

import dev.biogate.profile.ChangeTime;
import dev.biogate.profile.ProfileService;
import dev.biogate.profile.ProfileService.Patched;
import dev.biogate.support.Topology;
import dev.biogate.support.UnstartedHarnessTest;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The write of a webhook change checks its order in the same script as the write (redis/profile_write.lua: the copy,
 * its version and its change times share the profile's hash tag, so one Cluster slot). A change older than one written
 * to the same part is refused by the write itself, with a copy and with only a tombstone, on every topology.
 */
class ChangeOrderTopologyTest extends UnstartedHarnessTest {

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = Topology.class, names = {"STANDALONE", "CLUSTER"})
  void theWriteRefusesAChangeOlderThanOneWrittenToTheSamePart(Topology topology, Vertx vertx, VertxTestContext ctx) {
    long now = System.currentTimeMillis();
    h.start(topology).compose(x -> h.gateway(new JsonObject())).compose(g -> h.get(g, "/v1/profiles/bob").compose(warm -> {
      ProfileService profiles = g.profiles();
      return profiles.patch("bob", ChangeTime.profile(now - 5_000), doc -> doc.put("bio", "NEWER bio"))
        .compose(newer -> {
          assertEquals(Patched.WRITTEN, newer);
          return profiles.patch("bob", ChangeTime.profile(now - 10_000), doc -> doc.put("bio", "OLDER bio"));
        })
        .compose(older -> {
          assertEquals(Patched.OLDER, older, "refused by the write");
          return profiles.patch("bob", ChangeTime.link("lnk_bob_01", now - 10_000), doc -> doc.put("theme", "other part"));
        })
        .compose(otherPart -> {
          assertEquals(Patched.WRITTEN, otherPart, "a change to another part is not ordered against it");
          // Nothing cached: the newer change leaves a tombstone and its time; the older one is refused all the same.
          return profiles.patch("nobody", ChangeTime.link("lnk_x", now - 5_000), doc -> doc);
        })
        .compose(tombstone -> {
          assertEquals(Patched.NO_COPY, tombstone);
          return profiles.outdate("nobody", ChangeTime.link("lnk_x", now - 10_000));
        })
        .compose(older -> {
          assertEquals(Patched.OLDER, older);
          return h.get(g, "/v1/profiles/bob");
        })
        .map(r -> {
          assertEquals("NEWER bio", r.bodyAsJsonObject().getString("bio"));
          return null;
        });
    })).onComplete(ctx.succeedingThenComplete());
  }
}
