package dev.biogate.support;

/**
 * A {@link HarnessTest} whose tests start {@link #h} themselves: on a {@link Topology}, a dedicated Redis or with the
 * simulated Klaviyo API. {@link #h} is still created before and closed after each test.
 */
public abstract class UnstartedHarnessTest extends HarnessTest {

  @Override
  protected final boolean testsStartHarness() {
    return true;
  }
}
