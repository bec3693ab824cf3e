package dev.biogate.analytics;

import dev.biogate.http.ApiException;
import dev.biogate.http.DirectRoute;
import dev.biogate.http.ErrorResponses;
import dev.biogate.http.PeerClose;
import dev.biogate.http.RequestMetrics;
import dev.biogate.http.Usernames;
import dev.biogate.profile.CachedProfile;
import dev.biogate.profile.ProfileErrors;
import dev.biogate.profile.Derived;
import dev.biogate.profile.ProfileService;
import dev.biogate.profile.ProfileSanitizer;
import io.vertx.core.AsyncResult;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * {@code GET /r/{username}/{linkId}}: {@code 302} to the URL the cached profile holds for that link, then records the
 * click (after the answer, without waiting on Redis) when {@link ClickGate} counts it: once per client per link per
 * window, never for bots, {@code HEAD} or prefetches. Each client's redirect rate is limited ({@code 429}). No open redirect: the target can only be a link of the named
 * creator's profile, and only an absolute {@code http}/{@code https} URL without credentials, or a {@code mailto:}
 * or {@code tel:} URL; anything else
 * ({@code javascript:}, {@code data:}, scheme-relative, unparseable) is a {@code 404}, never a {@code Location}.
 *
 * <p>Plain redirect paths ({@link #direct}) are served before the router, as profile reads are: the router's route
 * matching, context and end handlers were a tenth of a redirect's cost. Paths with escapes or anything the router
 * would normalise or reject still go through it ({@link #handle}).
 */
public final class RedirectHandler implements Handler<RoutingContext> {

  static final ApiException INVALID_LINK = new ApiException(400, "invalid_link_id",
    "link ids are 1-128 characters, no control characters");
  static final ApiException NOT_FOUND = new ApiException(404, "not_found", "no such resource");
  static final ApiException NO_PROFILE = new ApiException(404, "profile_not_found", "no such profile");
  static final ApiException NO_LINK = new ApiException(404, "link_not_found", "this profile has no such link");
  private static final int MAX_URL = 4096;
  /** The route template, as the router names it in metrics. */
  public static final String ROUTE = "/r/:username/:linkId";
  private static final String PREFIX = "/r/";

  private final ProfileService profiles;
  private final ClickRecorder recorder;
  private final ClickGate gate;
  private final LongSupplier clock;
  /** Each copy's map of targets, built on its first redirect, within a bound of heap. */
  private final Derived<Map<String, String>> targets;

  /** {@code maxTargetBytes}: heap the redirect targets of cached copies may take ({@link #targets}). */
  public RedirectHandler(ProfileService profiles, ClickRecorder recorder, ClickGate gate, LongSupplier clock, long maxTargetBytes) {
    this.profiles = profiles;
    this.recorder = recorder;
    this.gate = gate;
    this.clock = clock;
    this.targets = new Derived<>(maxTargetBytes, (copy, map) -> cost(map));
  }

  /** Heap held now by the redirect targets of cached copies (estimated as weighed). */
  public long targetBytesHeld() {
    return targets.bytesHeld();
  }

  /**
   * The redirect as a route served before the router, recording into {@code metrics} under {@link #ROUTE} as the
   * router's requests are. It takes only {@code GET}/{@code HEAD} of {@code /r/{username}/{linkId}} whose two
   * segments are already valid as written and whose URI has no {@code %}; the router answers everything else.
   */
  public DirectRoute direct(RequestMetrics metrics) {
    RequestMetrics.Route route = metrics.route(ROUTE);
    boolean timed = metrics.enabled();
    return (req, path) -> {
      HttpMethod method = req.method();
      Target target = method == HttpMethod.GET || method == HttpMethod.HEAD ? plain(path, req.uri()) : null;
      if (target == null) {
        return false;
      }
      if (timed) {
        long start = System.nanoTime();
        req.response().endHandler(v -> route.record(method, req.response().getStatusCode(), System.nanoTime() - start));
      }
      if (gate.admit(req)) {
        redirect(req, target.username, target.linkId);
      }
      return true;
    };
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    if (!gate.admit(req)) {
      return;
    }
    if (!twoSegments(req.path())) {
      ErrorResponses.send(ctx.response(), NOT_FOUND);
      return;
    }
    String username = Usernames.normalize(ctx.pathParam("username"));
    String linkId = ctx.pathParam("linkId");
    if (username == null) {
      ErrorResponses.send(ctx.response(), Usernames.INVALID);
      return;
    }
    if (!ProfileSanitizer.followableLinkId(linkId)) {
      ErrorResponses.send(ctx.response(), INVALID_LINK);
      return;
    }
    redirect(req, username, linkId);
  }

  private void redirect(HttpServerRequest req, String username, String linkId) {
    profiles.lookup(username).onComplete(ar -> {
      try {
        answer(req, ar, username, linkId);
      } catch (RuntimeException e) {
        ErrorResponses.unexpected(req.response(), e);
      }
    });
  }

  private void answer(HttpServerRequest req, AsyncResult<CachedProfile> ar, String username, String linkId) {
    if (ar.failed()) {
      ErrorResponses.send(req.response(), ProfileErrors.toHttp(ar.cause()));
      return;
    }
    if (!ar.result().found()) {
      ErrorResponses.send(req.response(), NO_PROFILE);
      return;
    }
    String target = targets.get(ar.result(), TARGETS).get(linkId);
    if (target == null) {
      ErrorResponses.send(req.response(), NO_LINK);
      return;
    }
    // A client that closed its side well after sending gave up waiting: it is answered, but no one follows the link.
    boolean abandoned = PeerClose.gaveUp(req);
    req.response().setStatusCode(302)
      .putHeader(HttpHeaders.LOCATION, target)
      .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
      .end();
    if (abandoned) {
      return;
    }
    long now = clock.getAsLong();
    String eventId = gate.countable(req, username, linkId, now);
    if (eventId != null) {
      recorder.record(new ClickEvent(eventId, username, linkId, now, ClickEvent.SOURCE_REDIRECT));
    }
  }

  /** The normalised username and the link id of a plain redirect path. */
  record Target(String username, String linkId) {
  }

  /**
   * The target of a plain redirect path ({@code /r/} username {@code /} link id), or {@code null} when the router
   * must decide: another prefix, more or fewer segments, a {@code %} anywhere in the URI, or a segment that is not
   * valid as written (or is all dots, which the router would normalise away).
   */
  static Target plain(String path, String uri) {
    if (uri.indexOf('%') >= 0 || !twoSegments(path)) {
      return null;
    }
    int slash = path.indexOf('/', PREFIX.length());
    String username = Usernames.normalize(path, PREFIX.length(), slash);
    String linkId = path.substring(slash + 1);
    return username != null && ClickEvent.validLinkId(linkId) && !onlyDots(linkId) ? new Target(username, linkId) : null;
  }

  /**
   * Whether the path as written is {@code /r/} and two non-empty segments, neither a dot segment: the router matches
   * {@code /r/demo/lnk/}, {@code /r//demo/lnk} and {@code /r/x/../demo/lnk} to the same route after normalising them,
   * but as written they name no resource (profile paths of those shapes are {@code 404} too).
   */
  static boolean twoSegments(String path) {
    if (path == null || !path.startsWith(PREFIX)) {
      return false;
    }
    int slash = path.indexOf('/', PREFIX.length());
    return slash > PREFIX.length() && slash < path.length() - 1 && path.indexOf('/', slash + 1) < 0
      && !dotSegment(path, PREFIX.length(), slash) && !dotSegment(path, slash + 1, path.length());
  }

  private static boolean dotSegment(String s, int from, int to) {
    return (to - from == 1 && s.charAt(from) == '.') || (to - from == 2 && s.charAt(from) == '.' && s.charAt(from + 1) == '.');
  }

  private static boolean onlyDots(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) != '.') {
        return false;
      }
    }
    return true;
  }

  /**
   * Every link id of a copy with its redirect target ({@code null} when its URL is not safe to redirect to; the
   * first link wins when ids repeat): parsed and checked once per copy, so a redirect
   * costs one map lookup instead of a scan of the links and a URI parse.
   */
  private static final Function<CachedProfile, Map<String, String>> TARGETS = RedirectHandler::targets;

  /** About the heap a map of targets holds: a node, two strings and a table slot per link. */
  static int cost(Map<String, String> targets) {
    long bytes = 64;
    for (Map.Entry<String, String> e : targets.entrySet()) {
      bytes += 112 + e.getKey().length() + (e.getValue() == null ? 0 : e.getValue().length());
    }
    return (int) Math.min(Integer.MAX_VALUE, bytes);
  }

  static Map<String, String> targets(CachedProfile copy) {
    JsonArray links = copy.decode().getJsonArray("links");
    if (links == null) {
      return Map.of();
    }
    Map<String, String> targets = new HashMap<>();
    for (int i = 0; i < links.size(); i++) {
      Object o = links.getValue(i);
      if (o instanceof JsonObject && ((JsonObject) o).getValue("id") instanceof String) {
        String id = (String) ((JsonObject) o).getValue("id");
        if (!targets.containsKey(id)) {
          Object url = ((JsonObject) o).getValue("url");
          targets.put(id, safeTarget(url instanceof String ? (String) url : null));
        }
      }
    }
    return targets;
  }

  /**
   * The URL in ASCII form if it is an absolute http(s) URL with a host and no user info, or a {@code mailto:} or
   * {@code tel:} URL (the profile serves those links too); else {@code null}.
   */
  static String safeTarget(String url) {
    if (url == null || url.isEmpty() || url.length() > MAX_URL) {
      return null;
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      return null;
    }
    String scheme = uri.getScheme();
    if (scheme != null && uri.isOpaque() && (scheme.equalsIgnoreCase("mailto") || scheme.equalsIgnoreCase("tel"))) {
      return ascii(uri);
    }
    if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
      return null;
    }
    String authority = uri.getRawAuthority();
    if (uri.isOpaque() || authority == null || authority.isEmpty() || authority.contains("@")) {
      return null;
    }
    return ascii(uri);
  }

  /**
   * {@code uri} in ASCII form, or {@code null} when it has none: {@code java.net.URI} takes a lone UTF-16 surrogate
   * and then throws while encoding it, which failed every redirect of the profile holding it.
   */
  private static String ascii(URI uri) {
    try {
      return uri.toASCIIString();
    } catch (RuntimeException e) {
      return null;
    }
  }
}
