package dev.biogate.analytics;

import dev.biogate.sink.KlaviyoSink;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

/**
 * The one context all of an instance's background analytics work runs on: the click recorder and its journal replay,
 * the counters' stream reader and the Klaviyo sink. Starting fails if the journal cannot be opened (a click could
 * otherwise be lost in an outage); stopping lets each finish what it holds.
 */
final class AnalyticsVerticle extends VerticleBase {

  private final ClickRecorder recorder;
  private final StreamGroupReader counter;
  private final KlaviyoSink sink;

  AnalyticsVerticle(ClickRecorder recorder, StreamGroupReader counter, KlaviyoSink sink) {
    this.recorder = recorder;
    this.counter = counter;
    this.sink = sink;
  }

  @Override
  public Future<?> start() {
    return recorder.start(context).onSuccess(v -> {
      counter.start();
      if (sink != null) {
        sink.start();
      }
    });
  }

  @Override
  public Future<?> stop() {
    Future<Void> sinkStopped = sink == null ? Future.succeededFuture() : sink.stop();
    return Future.join(sinkStopped, counter.stop(), recorder.stop());
  }
}
