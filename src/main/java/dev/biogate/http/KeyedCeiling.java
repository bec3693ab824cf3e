package dev.biogate.http;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A ceiling on something held at once (bytes, running queries), every key (a client, a creator) holding at most its
 * share of it. Used from every event loop: the total and each key's part are taken and given back atomically, the
 * key's part first, so that a take the key's share refuses never costs another key room. A {@code null} key is held
 * to no share. An entry per key lives only while that key holds something.
 */
public class KeyedCeiling {

  private final long capacity;
  private final long perKey;
  private final AtomicLong used = new AtomicLong();
  private final ConcurrentHashMap<String, Long> byKey = new ConcurrentHashMap<>();

  /** {@code capacity} in all, a key at most {@code perKey} of it. */
  public KeyedCeiling(long capacity, long perKey) {
    this.capacity = capacity;
    this.perKey = perKey;
  }

  /** Whether {@code n} more would fit {@code key}'s share (when it has one) and the ceiling now; takes nothing. */
  public boolean fits(String key, long n) {
    if (used.get() + n > capacity) {
      return false;
    }
    return key == null || byKey.getOrDefault(key, 0L) + n <= perKey;
  }

  /** Takes {@code n} held to no share, or nothing and false when it does not fit. */
  public boolean reserve(long n) {
    if (used.addAndGet(n) > capacity) {
      used.addAndGet(-n);
      return false;
    }
    return true;
  }

  /** Takes {@code n} for {@code key} ({@code null}: held to no share), or nothing and false when it does not fit. */
  public boolean reserve(String key, long n) {
    if (key == null) {
      return reserve(n);
    }
    if (byKey.merge(key, n, Long::sum) > perKey) {
      releaseShare(key, n);
      return false;
    }
    if (!reserve(n)) {
      releaseShare(key, n);
      return false;
    }
    return true;
  }

  /** Gives back {@code n} taken with {@link #reserve(long)}. */
  public void release(long n) {
    used.addAndGet(-n);
  }

  /** Gives back {@code n} taken with {@link #reserve(String, long)}. */
  public void release(String key, long n) {
    release(n);
    if (key != null) {
      releaseShare(key, n);
    }
  }

  private void releaseShare(String key, long n) {
    byKey.computeIfPresent(key, (k, held) -> held - n <= 0 ? null : held - n);
  }

  public long capacity() {
    return capacity;
  }

  /** What {@code key} holds now. */
  public long held(String key) {
    return byKey.getOrDefault(key, 0L);
  }

  /** What one key may hold at most. */
  public long perKey() {
    return perKey;
  }

  /** What is held now, over every key. */
  public long used() {
    return used.get();
  }

  /** Keys holding something now. */
  public int keys() {
    return byKey.size();
  }
}
