package dev.biogate.webhook;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The providers' signature vectors ({@code src/test/resources/vectors/webhook-signatures.json}).
 */
final class WebhookVectors {

  /** One vector: the JSON as written, with helpers for the parts a verifier takes. */
  record Vector(String provider, JsonObject json) {

    String name() {
      return json.getString("name");
    }

    String secret() {
      return json.getString("secret");
    }

    String expect() {
      return json.getString("expect");
    }

    /** The clock at which the vector's timestamps are fresh; LinkMe vectors carry none (its scheme has no clock). */
    long now() {
      return json.getLong("now", 0L);
    }

    MultiMap headers() {
      MultiMap headers = MultiMap.caseInsensitiveMultiMap();
      json.getJsonObject("headers").forEach(e -> headers.add(e.getKey(), (String) e.getValue()));
      return headers;
    }

    Buffer body() {
      return Buffer.buffer(json.getString("body")); // UTF-8, as the provider sent it
    }

    @Override
    public String toString() {
      return provider + "/" + name() + " -> " + expect();
    }
  }

  private WebhookVectors() {
  }

  static List<Vector> linktree() {
    return load("linktree");
  }

  static List<Vector> linkme() {
    return load("linkme");
  }

  private static List<Vector> load(String provider) {
    JsonArray array = file().getJsonArray(provider);
    if (array == null || array.isEmpty()) {
      throw new IllegalStateException("no '" + provider + "' vectors in " + path());
    }
    List<Vector> vectors = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      vectors.add(new Vector(provider, array.getJsonObject(i)));
    }
    return vectors;
  }

  private static JsonObject file() {
    Path path = path();
    try {
      return new JsonObject(Files.readString(path));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read signature vectors at " + path, e);
    }
  }

  /** The providers' signature vectors, kept in the test resources. */
  private static Path path() {
    return Path.of("src", "test", "resources", "vectors", "webhook-signatures.json");
  }
}
