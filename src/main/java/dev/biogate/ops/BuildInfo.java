package dev.biogate.ops;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The build's version (from the pom, filtered into {@code dev/biogate/build.properties}) and its metric. */
public final class BuildInfo {

  private static final String VERSION = load();

  private BuildInfo() {
  }

  public static String version() {
    return VERSION;
  }

  /** {@code biogate_build_info{version="…",java="…"} 1}: join on it to see which version every instance runs. */
  public static void bind(MeterRegistry registry) {
    Gauge.builder("biogate.build.info", () -> 1)
      .description("Build of this instance (constant 1; the labels carry the information)")
      .tag("version", VERSION).tag("java", System.getProperty("java.version", "unknown"))
      .register(registry);
  }

  private static String load() {
    try (InputStream in = BuildInfo.class.getResourceAsStream("/dev/biogate/build.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      String v = p.getProperty("version", "unknown");
      return v.startsWith("${") ? "unknown" : v;
    } catch (IOException e) {
      return "unknown";
    }
  }
}
