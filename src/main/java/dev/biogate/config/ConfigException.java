package dev.biogate.config;

/**
 * Invalid configuration. The message is one line naming the setting (environment variable or JSON path)
 * and what is wrong with it, suitable to print as-is before exiting.
 */
public final class ConfigException extends RuntimeException {

  private final String setting;

  public ConfigException(String setting, String problem) {
    super(setting + ": " + problem, null, false, false);
    this.setting = setting;
  }

  /** The name of the offending setting, as the operator wrote it (env var or JSON path). */
  public String setting() {
    return setting;
  }
}
