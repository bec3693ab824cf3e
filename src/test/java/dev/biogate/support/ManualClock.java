package dev.biogate.support;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/** A clock tests move by hand, so freshness transitions happen exactly when a test says. */
public final class ManualClock implements LongSupplier {

  private final AtomicLong now = new AtomicLong(System.currentTimeMillis());

  @Override
  public long getAsLong() {
    return now.get();
  }

  public void advance(long ms) {
    now.addAndGet(ms);
  }
}
