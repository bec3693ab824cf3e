package dev.biogate.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DestinationOptionsTest {

  @TempDir
  Path dir;

  private static DestinationOptions of(JsonObject... endpoints) {
    return new DestinationOptions(new JsonObject().put("endpoints", new JsonArray(List.of((Object[]) endpoints))));
  }

  private static JsonObject crm() {
    return new JsonObject().put("name", "crm").put("url", "https://crm.example/hooks").put("events", "linkme.*,linktree.link.*");
  }

  @Test
  void readsEndpointsWithRotationAndASecretFile() throws Exception {
    Path file = dir.resolve("secret");
    Files.writeString(file, "from-file-1,from-file-2\n");
    DestinationOptions o = of(crm().put("secret", "a,b").put("ratePerSec", 5),
      new JsonObject().put("name", "bi").put("url", "http://bi.local/in").put("events", new JsonArray().add("*"))
        .put("secretFile", file.toString()).put("enabled", "false"));
    assertEquals(2, o.endpoints().size());
    DestinationOptions.Endpoint crm = o.endpoints().get(0);
    assertEquals(List.of("linkme.*", "linktree.link.*"), crm.events());
    assertEquals(List.of("a", "b"), crm.secrets().stream().map(Secret::reveal).toList());
    assertEquals(5.0, crm.ratePerSec());
    assertTrue(crm.enabled());
    DestinationOptions.Endpoint bi = o.endpoints().get(1);
    assertEquals(List.of("from-file-1", "from-file-2"), bi.secrets().stream().map(Secret::reveal).toList());
    assertFalse(bi.enabled());
    assertFalse(o.toJson().encode().contains("from-file"), "no secrets in the dump");
  }

  @Test
  void everyMistakeNamesItsSetting() {
    assertEquals("destinations.endpoints[0].url",
      assertThrows(ConfigException.class, () -> of(crm().putNull("url"))).setting());
    assertEquals("destinations.endpoints[0].events",
      assertThrows(ConfigException.class, () -> of(crm().put("events", new JsonArray()))).setting());
    assertEquals("destinations.endpoints[0].secretFile",
      assertThrows(ConfigException.class, () -> of(crm().put("secret", "x").put("secretFile", "/nope"))).setting());
    assertEquals("destinations.endpoints[0].secretFile",
      assertThrows(ConfigException.class, () -> of(crm().put("secretFile", dir.resolve("missing").toString()))).setting());
    assertEquals("destinations.endpoints", assertThrows(ConfigException.class, () -> of(crm(), crm())).setting());
    assertEquals("destinations.endpoints[0].url",
      assertThrows(ConfigException.class, () -> of(crm().put("url", "ftp://x/y"))).setting());
  }

  @Test
  void theRemovedAlertForwarderKeyStopsStartUpNamingTheDestinationThatReplacesIt() {
    ConfigException e = assertThrows(ConfigException.class, () -> new BiogateConfig(new JsonObject().put("webhooks",
      new JsonObject().put("alerts", new JsonObject().put("url", "https://ops.example/alerts")))));
    assertEquals("webhooks.alerts", e.setting());
    assertTrue(e.getMessage().contains("destinations.endpoints") && e.getMessage().contains("linktree.analytics.milestone"),
      e.getMessage());
  }
}
