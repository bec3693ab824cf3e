// biogate operator console: plain JavaScript, no build step, no dependencies.
// Every number comes from the admin JSON API, called with the admin token the
// operator enters; the token stays in this tab's sessionStorage.
(function () {
  'use strict';

  var TOKEN_KEY = 'biogate.adminToken';
  var LANES = ['FOREGROUND', 'FIRST_SIGHT', 'REFRESH', 'BACKGROUND'];
  var SVG = 'http://www.w3.org/2000/svg';
  var $ = function (id) { return document.getElementById(id); };

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function api(method, path) {
    var sent = token();
    return fetch(path, {
      method: method,
      headers: { 'Authorization': 'Bearer ' + sent, 'Accept': 'application/json' },
      cache: 'no-store',
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (res.status === 401) {
          // Only a refusal of the token in use signs out: a late answer to a call made with an earlier, wrong
          // token must not end the session the operator has just opened with the right one.
          if (token() === sent) {
            signOut('The token was refused. Enter the admin token again.');
          }
          throw new Error('unauthorized');
        }
        if (!res.ok) {
          throw new Error((body && body.message) || ('HTTP ' + res.status));
        }
        return body;
      });
    });
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }

  function showError(message) {
    $('error').textContent = message;
    $('error').hidden = !message;
  }

  // ---- budget chart: stacked bars, one per minute, one colour per lane ----
  function drawBudget(budget) {
    var minutes = budget.minutes || [];
    var w = 720, h = 200, left = 36, bottom = 18, top = 8;
    var max = 1;
    minutes.forEach(function (m) {
      max = Math.max(max, LANES.reduce(function (s, l) { return s + (m[l] || 0); }, 0));
    });
    if (budget.limit_per_window) { max = Math.max(max, budget.limit_per_window); }
    var chart = svg('svg', { viewBox: '0 0 ' + w + ' ' + h, role: 'img', 'aria-label': 'upstream calls per minute by lane' });
    var plotH = h - bottom - top;
    var barW = (w - left) / Math.max(1, minutes.length);
    [0, 0.5, 1].forEach(function (f) {
      var y = top + plotH - f * plotH;
      chart.appendChild(svg('line', { x1: left, x2: w, y1: y, y2: y, 'class': 'grid' }));
      var label = svg('text', { x: left - 4, y: y + 4, 'text-anchor': 'end', 'class': 'axis' });
      label.textContent = Math.round(f * max);
      chart.appendChild(label);
    });
    minutes.forEach(function (m, i) {
      var y = top + plotH;
      LANES.forEach(function (lane) {
        var n = m[lane] || 0;
        if (n > 0) {
          var bh = n / max * plotH;
          y -= bh;
          var r = svg('rect', { x: left + i * barW + 1, y: y, width: Math.max(1, barW - 2), height: bh, 'class': 'lane ' + lane });
          var t = svg('title', {});
          t.textContent = m.t.substring(11, 16) + ' ' + lane.toLowerCase() + ': ' + n;
          r.appendChild(t);
          chart.appendChild(r);
        }
      });
    });
    if (minutes.length) {
      [0, minutes.length - 1].forEach(function (i) {
        var t = svg('text', { x: left + i * barW + barW / 2, y: h - 4, 'text-anchor': i ? 'end' : 'start', 'class': 'axis' });
        t.textContent = minutes[i].t.substring(11, 16) + ' UTC';
        chart.appendChild(t);
      });
    }
    $('budget-chart').replaceChildren(chart);
    $('budget-limit').textContent = budget.limit_per_window ? '(limit ' + budget.limit_per_window + ' per window)' : '';
  }

  function fillList(id, entries) {
    var dl = $(id);
    dl.replaceChildren();
    entries.forEach(function (kv) {
      dl.appendChild(el('dt', {}, kv[0]));
      dl.appendChild(el('dd', { 'class': 'state ' + String(kv[1]).replace(/[^a-z_]/g, '') }, kv[1]));
    });
  }

  function drawOverview(o) {
    drawBudget(o.budget || {});
    fillList('breakers', Object.keys(o.breakers || {}).map(function (k) { return [k, o.breakers[k]]; }));
    var ratio = o.cache && o.cache.hit_ratio;
    $('hit-ratio').textContent = ratio === null || ratio === undefined ? 'no reads yet' : (ratio * 100).toFixed(1) + ' %';
    var reads = (o.cache && o.cache.reads) || {};
    $('reads').textContent = Object.keys(reads).map(function (k) { return k + ' ' + reads[k]; }).join(' · ');
    var s = o.streams || {};
    fillList('streams', [['events backlog', s.events_backlog], ['dead letters', s.dead_letters], ['clicks', s.clicks],
      ['destination backlog', s.outbound_backlog], ['klaviyo retry', s.klaviyo_retry], ['klaviyo dead letters', s.klaviyo_dead_letters]]);
  }

  // The events' dead letters (handling failed) and the destinations' (delivery failed): one table each, same shape.
  var DEAD = {
    events: { table: 'dead-letters', count: 'dead-count', empty: 'dead-empty', replay: '/admin/dead-letters/',
      source: function (d) { return d.provider; } },
    destinations: { table: 'destination-dead-letters', count: 'destination-dead-count', empty: 'destination-dead-empty',
      replay: '/admin/destinations/dead-letters/', source: function (d) { return d.destination; } }
  };

  function drawDeadLetters(kind, list) {
    var k = DEAD[kind];
    var body = document.querySelector('#' + k.table + ' tbody');
    body.replaceChildren();
    (list.dead_letters || []).forEach(function (d) {
      var tr = el('tr', { 'data-id': d.id });
      [d.id, k.source(d), d.type, d.delivery_id, d.attempts, d.error].forEach(function (v) { tr.appendChild(el('td', {}, v)); });
      var td = el('td', {});
      var b = el('button', { type: 'button', 'class': 'replay', 'data-id': d.id }, 'Replay');
      b.addEventListener('click', function () { replay(k, d.id, b); });
      td.appendChild(b);
      tr.appendChild(td);
      body.appendChild(tr);
    });
    $(k.count).textContent = '(' + (list.count || 0) + ')';
    $(k.empty).hidden = (list.count || 0) > 0;
  }

  function replay(k, id, button) {
    button.disabled = true;
    api('POST', k.replay + encodeURIComponent(id) + '/replay').then(function (r) {
      button.textContent = 'Replayed';
      button.className = 'replay done';
      button.closest('tr').setAttribute('data-replayed', r.stream_id || 'yes');
      setTimeout(refresh, 1000);
    }).catch(function (e) {
      button.disabled = false;
      showError('Replay of ' + id + ' failed: ' + e.message);
    });
  }

  // Ids are the providers' own: without a provider the first holding the id answers and lists the others.
  function lookup(id, provider) {
    var out = $('delivery');
    out.replaceChildren(el('p', { 'class': 'muted' }, 'Looking up…'));
    api('GET', '/admin/deliveries/' + encodeURIComponent(id)
      + (provider ? '?provider=' + encodeURIComponent(provider) : '')).then(function (d) {
      var table = el('table', { id: 'delivery-result' });
      var order = ['delivery_id', 'provider', 'other_providers', 'type', 'outcome', 'received', 'deliveries', 'attempts', 'last_attempt_at',
        'last_error', 'handled_at', 'dead_letter_id', 'replays', 'replayed_at'];
      order.concat(Object.keys(d).filter(function (k) { return order.indexOf(k) < 0 && k !== 'received_ms'; }))
        .forEach(function (k) {
          if (d[k] === undefined || d[k] === null) { return; }
          var tr = el('tr', { 'data-field': k });
          tr.appendChild(el('th', {}, k));
          var v = d[k];
          tr.appendChild(el('td', {}, typeof v === 'object' ? JSON.stringify(v) : v));
          table.appendChild(tr);
        });
      out.replaceChildren(table);
    }).catch(function (e) {
      out.replaceChildren(el('p', { 'class': 'error' }, e.message));
    });
  }

  function refresh() {
    Promise.all([api('GET', '/admin/overview'), api('GET', '/admin/dead-letters?limit=100'),
      api('GET', '/admin/destinations/dead-letters?limit=100')]).then(function (r) {
      showError('');
      drawOverview(r[0]);
      drawDeadLetters('events', r[1]);
      drawDeadLetters('destinations', r[2]);
      $('updated').textContent = 'updated ' + new Date().toISOString().substring(11, 19) + ' UTC';
      document.body.setAttribute('data-loaded', 'true');
    }).catch(function (e) {
      if (e.message !== 'unauthorized') { showError('Could not load: ' + e.message); }
    });
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    document.body.removeAttribute('data-loaded');
    $('console').hidden = true;
    $('session').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('login-error').hidden = !message;
  }

  function signIn() {
    $('login').hidden = true;
    $('console').hidden = false;
    $('session').hidden = false;
    refresh();
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('token-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
      $('token').value = '';
      signIn();
    });
    $('lookup-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      lookup($('delivery-id').value.trim(), $('delivery-provider').value);
    });
    $('refresh').addEventListener('click', refresh);
    $('signout').addEventListener('click', function () { signOut(''); });
    setInterval(function () { if (token()) { refresh(); } }, 15000);
    if (token()) { signIn(); } else { signOut(''); }
  });
}());
