package dev.biogate.analytics;

/** The click writer's failures, for tests of other packages (their constructors are the writer's own). */
public final class ClickStreamWriterErrors {

  private ClickStreamWriterErrors() {
  }

  public static Throwable notReplicated() {
    return new ClickStreamWriter.NotReplicated();
  }
}
